ALTER TABLE "schedule_runs" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "schedule_runs" ADD COLUMN "retry_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_schedule_attempt_idx" ON "jobs" USING btree ("schedule_run_id","attempt") WHERE schedule_run_id is not null;--> statement-breakpoint
CREATE INDEX "schedule_runs_retry_idx" ON "schedule_runs" USING btree ("retry_at") WHERE retry_at is not null;