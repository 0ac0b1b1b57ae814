CREATE TABLE "backup_copies" (
	"backup_id" uuid NOT NULL,
	"destination_id" uuid NOT NULL,
	"state" text NOT NULL,
	"object_name" text NOT NULL,
	"size_bytes" bigint,
	"stored_sha256" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error_code" text,
	"error_message" text,
	"job_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "destination_retention_policies" (
	"target_id" uuid NOT NULL,
	"destination_id" uuid NOT NULL,
	"keep_last" integer,
	"keep_hourly" integer,
	"keep_daily" integer,
	"keep_weekly" integer,
	"keep_monthly" integer,
	"keep_yearly" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "destinations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"settings" jsonb NOT NULL,
	"credentials_sealed" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"managed_by" text,
	"last_test" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "recipients" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"recipient" text NOT NULL,
	"fingerprint" text NOT NULL,
	"identity_sealed" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"private_key_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "target_destinations" (
	"target_id" uuid NOT NULL,
	"destination_id" uuid NOT NULL,
	"position" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "target_recipients" (
	"target_id" uuid NOT NULL,
	"recipient_id" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "codec" text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "content_sha256" text;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "recipient_fingerprints" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "signed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "backup_copies" ADD CONSTRAINT "backup_copies_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "destination_retention_policies" ADD CONSTRAINT "destination_retention_policies_target_id_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "destination_retention_policies" ADD CONSTRAINT "destination_retention_policies_destination_id_destinations_id_fk" FOREIGN KEY ("destination_id") REFERENCES "public"."destinations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "target_destinations" ADD CONSTRAINT "target_destinations_target_id_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "target_destinations" ADD CONSTRAINT "target_destinations_destination_id_destinations_id_fk" FOREIGN KEY ("destination_id") REFERENCES "public"."destinations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "target_recipients" ADD CONSTRAINT "target_recipients_target_id_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "target_recipients" ADD CONSTRAINT "target_recipients_recipient_id_recipients_id_fk" FOREIGN KEY ("recipient_id") REFERENCES "public"."recipients"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backup_copies_pk" ON "backup_copies" USING btree ("backup_id","destination_id");--> statement-breakpoint
CREATE INDEX "backup_copies_destination_idx" ON "backup_copies" USING btree ("destination_id","state");--> statement-breakpoint
CREATE UNIQUE INDEX "destination_retention_pk" ON "destination_retention_policies" USING btree ("target_id","destination_id");--> statement-breakpoint
CREATE UNIQUE INDEX "destinations_name_live_idx" ON "destinations" USING btree ("name") WHERE deleted_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "recipients_name_idx" ON "recipients" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "recipients_fingerprint_idx" ON "recipients" USING btree ("fingerprint");--> statement-breakpoint
CREATE UNIQUE INDEX "target_destinations_pk" ON "target_destinations" USING btree ("target_id","destination_id");--> statement-breakpoint
CREATE UNIQUE INDEX "target_recipients_pk" ON "target_recipients" USING btree ("target_id","recipient_id");