CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"pid" integer NOT NULL,
	"role" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_policies" (
	"target_id" uuid PRIMARY KEY NOT NULL,
	"keep_last" integer,
	"keep_hourly" integer,
	"keep_daily" integer,
	"keep_weekly" integer,
	"keep_monthly" integer,
	"keep_yearly" integer,
	"snapshot_keep_days" integer DEFAULT 7,
	"upload_keep_days" integer DEFAULT 7,
	"failed_runs_guard" integer DEFAULT 3 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "schedule_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"schedule_target_id" uuid NOT NULL,
	"target_id" uuid NOT NULL,
	"slot_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"job_id" uuid,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"target_id" uuid PRIMARY KEY NOT NULL,
	"cron" text NOT NULL,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"missed_policy" text DEFAULT 'run-once' NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"retry_limit" integer DEFAULT 1 NOT NULL,
	"last_slot_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "targets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"parent_id" uuid,
	"url" text NOT NULL,
	"password_sealed" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"managed_by" text,
	"exclude_databases" text[] DEFAULT '{}' NOT NULL,
	"keep_globals" boolean DEFAULT false NOT NULL,
	"globals_with_passwords" boolean DEFAULT false NOT NULL,
	"last_test" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "target_id" uuid;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "target_id" uuid;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "pinned" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "globals_file_name" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "target_id" uuid;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "schedule_run_id" uuid;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "instance_id" uuid;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "activity_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_target_id_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_target_id_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "schedule_runs_slot_idx" ON "schedule_runs" USING btree ("target_id","slot_at");--> statement-breakpoint
CREATE UNIQUE INDEX "targets_name_live_idx" ON "targets" USING btree ("name") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "targets_parent_idx" ON "targets" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "backups_target_idx" ON "backups" USING btree ("target_id","created_at");--> statement-breakpoint
CREATE INDEX "jobs_target_idx" ON "jobs" USING btree ("target_id","created_at");