-- The Workload Tracker demo: who works on which project, and the hours they book.
-- Deterministic (setseed) so every fresh start has the same few MB of data.
SELECT setseed(0.42);

CREATE TYPE project_status AS ENUM ('planned', 'active', 'on_hold', 'done');

CREATE TABLE people (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  full_name text NOT NULL,
  email text NOT NULL UNIQUE,
  team text NOT NULL,
  weekly_capacity_hours numeric(4,1) NOT NULL DEFAULT 40 CHECK (weekly_capacity_hours BETWEEN 0 AND 60),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  client text NOT NULL,
  status project_status NOT NULL DEFAULT 'active',
  starts_on date NOT NULL,
  ends_on date,
  budget_hours integer NOT NULL CHECK (budget_hours > 0),
  CHECK (ends_on IS NULL OR ends_on >= starts_on)
);

CREATE TABLE assignments (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  person_id integer NOT NULL REFERENCES people (id),
  project_id integer NOT NULL REFERENCES projects (id),
  role text NOT NULL,
  allocation_percent integer NOT NULL CHECK (allocation_percent BETWEEN 5 AND 100),
  UNIQUE (person_id, project_id)
);

CREATE TABLE time_entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  assignment_id integer NOT NULL REFERENCES assignments (id),
  worked_on date NOT NULL,
  hours numeric(4,2) NOT NULL CHECK (hours > 0 AND hours <= 24),
  note text
);
CREATE INDEX time_entries_assignment_day_idx ON time_entries (assignment_id, worked_on);

CREATE VIEW project_hours AS
SELECT p.code, p.name, sum(t.hours) AS booked_hours, p.budget_hours
FROM projects p
JOIN assignments a ON a.project_id = p.id
JOIN time_entries t ON t.assignment_id = a.id
GROUP BY p.id;

INSERT INTO people (full_name, email, team, weekly_capacity_hours)
SELECT first || ' ' || last,
       lower(first || '.' || last || n || '@example.com'),
       (ARRAY['Platform', 'Mobile', 'Data', 'Design', 'Support'])[1 + n % 5],
       (ARRAY[40, 32, 24, 40, 36])[1 + n % 5]
FROM generate_series(1, 200) AS n,
     LATERAL (SELECT (ARRAY['Ana', 'Bjørn', 'Chloé', 'Dmitri', 'Eun-ji', 'Fatima', 'Gustavo', 'Hana', 'Ivan', 'Jonas'])[1 + n % 10] AS first,
                     (ARRAY['Silva', 'Berg', 'Martin', 'Novak', 'Kim', 'Haddad', 'Rossi', 'Sato', 'Petrov', 'Müller'])[1 + (n / 10) % 10] AS last) AS names;

INSERT INTO projects (code, name, client, status, starts_on, ends_on, budget_hours)
SELECT 'WT-' || lpad(n::text, 3, '0'),
       (ARRAY['Billing revamp', 'Mobile app', 'Data warehouse', 'Support portal', 'Design system'])[1 + n % 5] || ' ' || n,
       (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark'])[1 + (n * 7) % 5],
       (ARRAY['planned', 'active', 'active', 'on_hold', 'done'])[1 + n % 5]::project_status,
       date '2025-01-01' + (n * 5),
       CASE WHEN n % 5 = 4 THEN date '2025-01-01' + (n * 5) + 120 END,
       500 + (n * 37) % 2000
FROM generate_series(1, 40) AS n;

INSERT INTO assignments (person_id, project_id, role, allocation_percent)
SELECT DISTINCT ON (person_id, project_id) person_id, project_id, role, allocation
FROM (
  SELECT 1 + (random() * 199)::int AS person_id,
         1 + (random() * 39)::int AS project_id,
         (ARRAY['Developer', 'Lead', 'Designer', 'Analyst', 'QA'])[1 + (random() * 4)::int] AS role,
         (ARRAY[20, 40, 50, 80, 100])[1 + (random() * 4)::int] AS allocation
  FROM generate_series(1, 700)
) AS candidates;

INSERT INTO time_entries (assignment_id, worked_on, hours, note)
SELECT a.id,
       date '2025-01-06' + (day * 7 + (random() * 4)::int),
       round((1 + random() * 7)::numeric, 2),
       CASE WHEN random() < 0.3 THEN (ARRAY['Sprint planning', 'Code review', 'Incident follow-up', 'Kundentermin', 'Réunion client'])[1 + (random() * 4)::int] END
FROM assignments a, generate_series(0, 79) AS day;

ANALYZE;
