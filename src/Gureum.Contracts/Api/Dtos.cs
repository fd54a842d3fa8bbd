namespace Gureum.Contracts.Api;

// The REST API's data (TEAM.md contract C), shared by the server and the CLI. Serialized with
// System.Text.Json in camelCase (GureumJson.Options / GureumJsonContext). Fields may be added;
// none is renamed or removed without a new API version.

/// <summary><c>GET /healthz</c>.</summary>
/// <param name="Status">"ok" when the server serves requests.</param>
/// <param name="Leader">Whether this replica runs the control loop.</param>
/// <param name="Version">Server version.</param>
public sealed record HealthDto(string Status, bool Leader, string Version);

/// <summary>A user: <c>GET /api/v1/whoami</c>, <c>GET /api/v1/users</c>.</summary>
/// <param name="Name">User name, unique.</param>
/// <param name="Lab">The lab the user belongs to.</param>
/// <param name="Role">One of <see cref="Roles"/>: Admin, LabLead, Researcher.</param>
public sealed record UserDto(string Name, string Lab, string Role);

/// <summary>Role names as the API spells them.</summary>
public static class Roles
{
    /// <summary>Sees and manages everything.</summary>
    public const string Admin = "Admin";
    /// <summary>Sees and cancels the jobs of their lab, creates users in it.</summary>
    public const string LabLead = "LabLead";
    /// <summary>Sees and cancels their own jobs.</summary>
    public const string Researcher = "Researcher";

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, LabLead, Researcher];
}

/// <summary><c>POST /api/v1/jobs</c> as JSON (the body may also be the YAML itself).</summary>
/// <param name="SpecYaml">The job spec YAML (contract D, <see cref="Specs.JobSpecYaml"/>).</param>
public sealed record SubmitJobRequest(string SpecYaml);

/// <summary>A job as the API shows it.</summary>
public sealed record JobDto
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    public required string User { get; init; }
    public required string Lab { get; init; }
    public required string Project { get; init; }
    /// <summary>A <c>Gureum.Core.Domain.JobStatus</c> name: Pending, Running, Completed, Failed, Cancelled, Unschedulable.</summary>
    public required string Status { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }
    /// <summary>Start of the first run.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>Runs started so far.</summary>
    public int Attempts { get; init; }
    /// <summary>GPUs asked for, as written in specs: "A100:4", "4", "0.5", "0" (CPU only).</summary>
    public required string Gpus { get; init; }
    /// <summary>Model of the GPUs the current or last run got, if any.</summary>
    public string? GpuModel { get; init; }
    /// <summary>Nodes of the current or last run.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];
    /// <summary>Why it is still waiting, as the last decision explained it.</summary>
    public string? WaitReason { get; init; }
    /// <summary>Process exit code of the last run, when the backend knows it.</summary>
    public int? ExitCode { get; init; }
    /// <summary>A cancel was asked for and is on its way.</summary>
    public bool CancelRequested { get; init; }
    /// <summary>Why a pending job is held (e.g. <c>held: budget — lab nlp would reach $120.00 of $100.00 …</c>); it
    /// is not started until an admin releases it (<c>POST /api/v1/jobs/{id}/release</c>) or the budget allows it. Null when not held.</summary>
    public string? Hold { get; init; }
    /// <summary><see cref="JobKinds.Batch"/> (runs to completion) or <see cref="JobKinds.Service"/> (serves until cancelled).</summary>
    public string Kind { get; init; } = JobKinds.Batch;

    /// <summary>Whether <see cref="Status"/> is an end state (the job will not change any more).</summary>
    public bool IsTerminal() => Status is JobStatuses.Completed or JobStatuses.Failed or JobStatuses.Cancelled or JobStatuses.Unschedulable;
}

/// <summary>Job kind names as the API spells them (<c>Gureum.Core.Domain.JobKind</c>).</summary>
public static class JobKinds
{
    /// <summary>Runs to completion; a preemption restarts it from its last checkpoint or from zero.</summary>
    public const string Batch = "batch";
    /// <summary>A long-running server; a preemption loses no work, a replacement serves on.</summary>
    public const string Service = "service";
}

/// <summary>Job status names as the API spells them (the names of <c>Gureum.Core.Domain.JobStatus</c>).</summary>
public static class JobStatuses
{
    public const string Pending = "Pending";
    public const string Running = "Running";
    public const string Completed = "Completed";
    public const string Failed = "Failed";
    public const string Cancelled = "Cancelled";
    public const string Unschedulable = "Unschedulable";

    /// <summary>Every status.</summary>
    public static IReadOnlyList<string> All { get; } = [Pending, Running, Completed, Failed, Cancelled, Unschedulable];
}

/// <summary>One page of a keyset-paged list.</summary>
/// <param name="Items">This page.</param>
/// <param name="NextCursor">Pass as <c>cursor=</c> for the next page; null on the last page.</param>
public sealed record PageDto<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>One recorded state change (<c>Gureum.Core.Control.ClusterEvent</c>).</summary>
/// <param name="Seq">Position in the event log; <c>after=</c> pages on it.</param>
/// <param name="At">When it happened.</param>
/// <param name="Kind">A <c>Gureum.Core.Control.EventKind</c> name, e.g. JobStarted.</param>
/// <param name="JobId">Job concerned, if any.</param>
/// <param name="NodeId">Node concerned, if any.</param>
/// <param name="Message">What happened and why.</param>
public sealed record EventDto(long Seq, DateTimeOffset At, string Kind, string? JobId, string? NodeId, string Message);

/// <summary>A node: <c>GET /api/v1/nodes</c>.</summary>
public sealed record NodeDto
{
    public required string Id { get; init; }
    /// <summary>Offer id (<c>cloud/zone/instance-type</c>).</summary>
    public required string Offer { get; init; }
    public required string InstanceType { get; init; }
    public required string Zone { get; init; }
    /// <summary>OnDemand or Spot.</summary>
    public required string Market { get; init; }
    /// <summary>A <c>Gureum.Core.Domain.NodeState</c> name: Requested, Booting, Ready, Draining, Terminated.</summary>
    public required string State { get; init; }
    public string? GpuModel { get; init; }
    public int Gpus { get; init; }
    /// <summary>Free GPUs, fractional shares included (1.5 = one whole and half of another).</summary>
    public double FreeGpus { get; init; }
    public double Cpus { get; init; }
    public double FreeCpus { get; init; }
    public double MemoryGiB { get; init; }
    public double FreeMemoryGiB { get; init; }
    public int RunningJobs { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset? ReadyAt { get; init; }
    /// <summary>USD per hour in its market, when priced.</summary>
    public decimal? PricePerHour { get; init; }
}

/// <summary>A purchasable node shape: <c>GET /api/v1/offers</c>.</summary>
public sealed record OfferDto
{
    /// <summary><c>cloud/zone/instance-type</c>.</summary>
    public required string Id { get; init; }
    public required string Cloud { get; init; }
    public required string Region { get; init; }
    public required string Zone { get; init; }
    public required string InstanceType { get; init; }
    public string? GpuModel { get; init; }
    public int GpuCount { get; init; }
    public double VCpus { get; init; }
    public double MemoryGiB { get; init; }
    public decimal? OnDemandPerHour { get; init; }
    public decimal? SpotPerHour { get; init; }
}

/// <summary>A lab: <c>GET/POST /api/v1/labs</c>, <c>PUT /api/v1/labs/{name}</c> (the name in the URL wins).</summary>
/// <param name="Name">Lab name, unique.</param>
/// <param name="MaxConcurrentGpus">Quota on GPUs held at once; null = none.</param>
/// <param name="MaxQueuedJobs">Quota on jobs waiting at once; null = none.</param>
/// <param name="MonthlyBudgetUsd">Budget per calendar month in USD; null = none.</param>
public sealed record LabDto(string Name, double? MaxConcurrentGpus = null, int? MaxQueuedJobs = null, decimal? MonthlyBudgetUsd = null);

/// <summary><c>POST /api/v1/users</c>.</summary>
/// <param name="Name">New user's name.</param>
/// <param name="Lab">Their lab (must exist).</param>
/// <param name="Role">One of <see cref="Roles"/>.</param>
public sealed record CreateUserRequest(string Name, string Lab, string Role);

/// <summary>Answer to <c>POST /api/v1/users</c>: the token is shown this once and stored only hashed.</summary>
public sealed record CreateUserResponse(UserDto User, string Token);

/// <summary>A lab's quota and its use: <c>GET /api/v1/quotas</c>.</summary>
/// <param name="Lab">Lab name.</param>
/// <param name="MaxGpus">Quota on concurrent GPUs; null = none.</param>
/// <param name="UsedGpus">GPUs its running jobs hold now.</param>
/// <param name="MaxQueued">Quota on queued jobs; null = none.</param>
/// <param name="Queued">Jobs waiting now.</param>
public sealed record QuotaDto(string Lab, double? MaxGpus, double UsedGpus, int? MaxQueued, int Queued);

/// <summary>
/// <c>GET /api/v1/jobs/{id}/why</c>: why a job is where it is. The current state and wait reason
/// (as the control loop's last decision explained it), the lab's GPU quota when it has one, and
/// the job's decision history from the event log, oldest first.
/// </summary>
public sealed record JobWhyDto
{
    /// <summary>The job now.</summary>
    public required JobDto Job { get; init; }
    /// <summary>One sentence: what the job is doing and why ("Pending: waiting for 4×A100: …",
    /// "Running since … on n000003 (…): fits", "Completed at …").</summary>
    public required string Summary { get; init; }
    /// <summary>The lab's concurrent-GPU quota and its use now, when the lab has one.</summary>
    public QuotaDto? LabQuota { get; init; }
    /// <summary>Every recorded decision about the job, oldest first.</summary>
    public IReadOnlyList<WhyStepDto> Timeline { get; init; } = [];
    /// <summary>Nodes the autoscaler bought for the job (its <c>NodeRequested</c> events), oldest first:
    /// which node, offer, market, zone and price, when, when it is (or was) ready, and the policy's reason.</summary>
    public IReadOnlyList<NodeBoughtDto> NodesBought { get; init; } = [];
}

/// <summary>A node bought for a job: what, when, and why that offer, market and zone.</summary>
public sealed record NodeBoughtDto
{
    /// <summary>The node's id.</summary>
    public required string NodeId { get; init; }
    /// <summary>When it was requested.</summary>
    public required DateTimeOffset At { get; init; }
    /// <summary>Its offer (<c>cloud/zone/instance-type</c>), when known.</summary>
    public string? Offer { get; init; }
    /// <summary>Its instance type, when known.</summary>
    public string? InstanceType { get; init; }
    /// <summary>OnDemand or Spot, when known.</summary>
    public string? Market { get; init; }
    /// <summary>Its zone, when known.</summary>
    public string? Zone { get; init; }
    /// <summary>Its GPU model (null: no GPU or unknown).</summary>
    public string? GpuModel { get; init; }
    /// <summary>Price in USD per hour in its market.</summary>
    public decimal? PricePerHour { get; init; }
    /// <summary>Its state now: Requested, Booting, Ready, Draining, Terminated.</summary>
    public string? State { get; init; }
    /// <summary>When it became ready; or, while it boots, when it is expected (requested + the offer's boot delay).</summary>
    public DateTimeOffset? ReadyAt { get; init; }
    /// <summary>Whether <see cref="ReadyAt"/> is an expectation (the node has not been ready yet).</summary>
    public bool ReadyExpected { get; init; }
    /// <summary>The policy's reason for this offer, market and zone, as recorded (e.g. the expected cost it compared).</summary>
    public required string Reason { get; init; }
}

/// <summary>One decision in a job's history: an event of the job, with the node it concerned.</summary>
public sealed record WhyStepDto
{
    /// <summary>When it happened.</summary>
    public required DateTimeOffset At { get; init; }
    /// <summary>A <c>Gureum.Core.Control.EventKind</c> name: JobSubmitted, JobStarted, JobPreempted, JobRequeued, …</summary>
    public required string Kind { get; init; }
    /// <summary>What was decided and why, as recorded.</summary>
    public required string Message { get; init; }
    /// <summary>The node concerned (for a start: the first node of the run).</summary>
    public string? NodeId { get; init; }
    /// <summary>That node's offer (<c>cloud/zone/instance-type</c>), when known.</summary>
    public string? Offer { get; init; }
    /// <summary>That node's market: OnDemand or Spot.</summary>
    public string? Market { get; init; }
    /// <summary>That node's zone.</summary>
    public string? Zone { get; init; }
    /// <summary>That node's GPU model.</summary>
    public string? GpuModel { get; init; }
    /// <summary>That node's price in USD per hour in its market.</summary>
    public decimal? PricePerHour { get; init; }
}

/// <summary>An estimate with its interval (<see cref="Low"/> ≤ <see cref="Estimate"/> ≤ <see cref="High"/>).</summary>
public sealed record IntervalDto(double Estimate, double Low, double High);

/// <summary>
/// <c>POST /api/v1/jobs?dryRun=true</c>: what the server would do with the spec, computed by a short
/// replay of the current cluster with the server's policy (the decision path the control loop runs),
/// without storing the job. Times are seconds; cost is USD for the job's share of its node(s).
/// </summary>
public sealed record DryRunDto
{
    /// <summary>Always false: nothing was stored.</summary>
    public bool Submitted { get; init; }
    /// <summary>The policy the replay ran (the server's).</summary>
    public required string Policy { get; init; }
    /// <summary>The duration predictor used, with its version, and what it was trained on.</summary>
    public required string Predictor { get; init; }
    /// <summary>When the estimate was made (the snapshot's time).</summary>
    public required DateTimeOffset At { get; init; }
    /// <summary>Seconds from <see cref="At"/> until the job starts. Null when it does not start within the replay's horizon.</summary>
    public IntervalDto? StartInSeconds { get; init; }
    /// <summary><see cref="At"/> + the start estimates.</summary>
    public DateTimeOffset? StartAt { get; init; }
    /// <summary>Earliest start (<see cref="At"/> + low).</summary>
    public DateTimeOffset? StartAtLow { get; init; }
    /// <summary>Latest start (<see cref="At"/> + high).</summary>
    public DateTimeOffset? StartAtHigh { get; init; }
    /// <summary>Run time in seconds on the GPU it gets.</summary>
    public IntervalDto? DurationSeconds { get; init; }
    /// <summary>Cost in USD: its share of the node's price × run time.</summary>
    public IntervalDto? CostUsd { get; init; }
    /// <summary>Offer it would run on.</summary>
    public string? Offer { get; init; }
    /// <summary>OnDemand or Spot.</summary>
    public string? Market { get; init; }
    /// <summary>GPU model it would get.</summary>
    public string? GpuModel { get; init; }
    /// <summary>Why: the decision's reasons for its start and for the node.</summary>
    public required string Explanation { get; init; }
    /// <summary>What the replay took in and left out (queue size, horizon), so the figures can be judged.</summary>
    public required string Method { get; init; }
}
