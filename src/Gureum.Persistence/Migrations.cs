namespace Gureum.Persistence;

/// <summary>
/// The schema, as an ordered list of migrations. Version N is the state after migration N. Never
/// edit a released migration: add the next one. <c>{ID}</c> stands for the dialect's auto-increment
/// primary key, <c>{REAL}</c> for its double-precision type.
/// </summary>
internal static class Migrations
{
    public static IReadOnlyList<string> All { get; } =
    [
        // 1: the control plane.
        """
        CREATE TABLE labs (
            name TEXT PRIMARY KEY,
            max_gpus {REAL} NULL,
            max_queued BIGINT NULL,
            budget_micros BIGINT NULL,
            queued BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL);
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            lab TEXT NOT NULL REFERENCES labs(name),
            role TEXT NOT NULL,
            created_at BIGINT NOT NULL);
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            user_name TEXT NOT NULL REFERENCES users(name),
            hash TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT NULL);
        CREATE TABLE jobs (
            seq {ID},
            id TEXT NOT NULL UNIQUE,
            lab TEXT NOT NULL,
            user_name TEXT NOT NULL,
            project TEXT NOT NULL,
            name TEXT NULL,
            status TEXT NOT NULL,
            spec_json TEXT NOT NULL,
            spec_text TEXT NOT NULL,
            submitted_at BIGINT NOT NULL,
            queued_since BIGINT NOT NULL,
            first_started_at BIGINT NULL,
            run_started_at BIGINT NULL,
            ended_at BIGINT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            work_saved BIGINT NOT NULL DEFAULT 0,
            placements TEXT NULL,
            gpu_model TEXT NULL,
            wait_reason TEXT NULL,
            exit_code BIGINT NULL,
            cancel_requested BIGINT NOT NULL DEFAULT 0);
        CREATE INDEX jobs_lab_status ON jobs(lab, status, seq);
        CREATE INDEX jobs_user ON jobs(user_name, seq);
        CREATE INDEX jobs_status ON jobs(status, seq);
        CREATE TABLE cancel_requests (
            id {ID},
            job_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            at BIGINT NOT NULL);
        CREATE TABLE job_runs (
            job_id TEXT NOT NULL,
            attempt BIGINT NOT NULL,
            lab TEXT NOT NULL,
            user_name TEXT NOT NULL,
            project TEXT NOT NULL,
            start_at BIGINT NOT NULL,
            end_at BIGINT NULL,
            placements TEXT NOT NULL,
            gpu_model TEXT NULL,
            outcome TEXT NULL,
            PRIMARY KEY (job_id, attempt));
        CREATE INDEX job_runs_start ON job_runs(start_at);
        CREATE TABLE nodes (
            seq {ID},
            id TEXT NOT NULL UNIQUE,
            offer_id TEXT NOT NULL,
            offer_json TEXT NOT NULL,
            market TEXT NOT NULL,
            price_micros BIGINT NULL,
            state TEXT NOT NULL,
            requested_at BIGINT NOT NULL,
            ready_at BIGINT NULL,
            terminated_at BIGINT NULL,
            gpu_free TEXT NOT NULL,
            free_cpus {REAL} NOT NULL,
            free_memory_gib {REAL} NOT NULL,
            running_jobs BIGINT NOT NULL,
            idle_since BIGINT NULL,
            fixed BIGINT NOT NULL);
        CREATE TABLE events (
            id {ID},
            at BIGINT NOT NULL,
            kind TEXT NOT NULL,
            job_id TEXT NULL,
            node_id TEXT NULL,
            message TEXT NOT NULL);
        CREATE INDEX events_job ON events(job_id, id);
        CREATE TABLE run_handles (
            job_id TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            node_id TEXT NOT NULL,
            data TEXT NOT NULL,
            saved_at BIGINT NOT NULL);
        CREATE TABLE leader (
            id BIGINT PRIMARY KEY,
            holder TEXT NOT NULL,
            acquired_at BIGINT NOT NULL);
        CREATE TABLE spot_trouble (
            zone TEXT NOT NULL,
            gpu_model TEXT NOT NULL,
            at BIGINT NOT NULL,
            PRIMARY KEY (zone, gpu_model));
        """,
        // 2: held jobs (budget gate): the hold reason on the job, and releases for the leader to pick up.
        """
        ALTER TABLE jobs ADD COLUMN hold TEXT NULL;
        CREATE TABLE hold_releases (
            id {ID},
            job_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            at BIGINT NOT NULL);
        """,
        // 3: wait reasons in a narrow table of their own: the control loop rewrites up to a thousand a
        // decision, and an update of the wide job row (spec, placements, indexes) cost far more.
        """
        CREATE TABLE job_wait_reasons (
            job_id TEXT PRIMARY KEY,
            reason TEXT NOT NULL);
        INSERT INTO job_wait_reasons (job_id, reason) SELECT id, wait_reason FROM jobs WHERE wait_reason IS NOT NULL AND status = 'Pending';
        UPDATE jobs SET wait_reason = NULL WHERE wait_reason IS NOT NULL;
        """,
        // 4: the job row's old reason column, empty and unused since 3.
        """
        ALTER TABLE jobs DROP COLUMN wait_reason;
        """,
        // 5: per-lab budget alert thresholds, percentages of the budget as "50,80,100"; NULL = the default.
        """
        ALTER TABLE labs ADD COLUMN alert_thresholds TEXT NULL;
        """,
    ];

    /// <summary>The newest schema version.</summary>
    public static int Latest => All.Count;
}
