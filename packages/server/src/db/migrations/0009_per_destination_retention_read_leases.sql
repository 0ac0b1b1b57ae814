CREATE TABLE "read_leases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"backup_id" uuid NOT NULL,
	"destination_id" uuid NOT NULL,
	"instance_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "destination_retention_policies" ADD COLUMN "keep_within_days" integer;--> statement-breakpoint
ALTER TABLE "retention_policies" ADD COLUMN "keep_within_days" integer;--> statement-breakpoint
ALTER TABLE "read_leases" ADD CONSTRAINT "read_leases_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "read_leases_copy_idx" ON "read_leases" USING btree ("backup_id","destination_id","expires_at");