using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Gureum.Contracts.Api;
using Gureum.Contracts.Specs;
using Gureum.Persistence;
using Gureum.Server.Auth;
using Gureum.Server.Hosting;
using Gureum.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Gureum.Server.Api;

/// <summary>
/// The REST API (TEAM.md contract C). Every route is behind <see cref="BearerAuth"/>. Visibility:
/// a researcher sees and cancels their own jobs, a lab lead their lab's, an admin all; another
/// lab's resource is 404, a visible resource the role may not act on is 403.
/// </summary>
internal static class Endpoints
{
    /// <summary>Largest page a list returns.</summary>
    public const int MaxLimit = 1000;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/whoami", (HttpContext http) => BearerAuth.CallerOf(http).ToDto()).WithTags("users");

        var jobs = api.MapGroup("/jobs").WithTags("jobs");
        jobs.MapPost("", SubmitAsync)
            .Accepts<SubmitJobRequest>("application/json", "application/yaml", "text/plain")
            .Produces<JobDto>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Produces<DryRunDto>(StatusCodes.Status200OK)
            .WithDescription("Submit a job spec. With dryRun=true the spec is validated exactly as for a submit but not stored, and the answer (200, DryRunDto) is the predicted start, duration and cost, each with an interval, from a short replay of the current cluster with the server's policy.");
        jobs.MapGet("", ListJobsAsync).Produces<PageDto<JobDto>>();
        jobs.MapGet("/{id}", GetJobAsync).Produces<JobDto>().ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapPost("/{id}/cancel", CancelAsync).Produces<JobDto>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("/{id}/logs", LogsAsync).Produces<string>(contentType: "text/plain").ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("/{id}/events", JobEventsAsync).Produces<PageDto<EventDto>>().ProducesProblem(StatusCodes.Status404NotFound);
        WhyEndpoint.Map(jobs);

        api.MapGet("/nodes", async (IControlPlaneStore store, bool? all, CancellationToken ct) =>
            (await store.ListNodesAsync(all == true, ct)).Select(n => n.Node.ToDto()).ToArray()).WithTags("cluster");
        api.MapGet("/offers", (ControlPlaneRuntime rt) => rt.Offers.Select(o => o.ToDto()).ToArray()).WithTags("cluster");
        api.MapGet("/events", EventsAsync).Produces<PageDto<EventDto>>().WithTags("events");

        var labs = api.MapGroup("/labs").WithTags("tenancy");
        labs.MapGet("", ListLabsAsync);
        labs.MapPost("", CreateLabAsync).Produces<LabDto>(StatusCodes.Status201Created);
        labs.MapPut("/{name}", UpdateLabAsync).Produces<LabDto>();
        var users = api.MapGroup("/users").WithTags("tenancy");
        users.MapGet("", ListUsersAsync);
        users.MapPost("", CreateUserAsync).Produces<CreateUserResponse>(StatusCodes.Status201Created);
        api.MapGet("/quotas", QuotasAsync).WithTags("tenancy");
        CostEndpoints.Map(api);
    }

    // ---------- jobs ----------

    private static async Task<IResult> SubmitAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, ServerMetrics metrics,
        LoopSignal signal, TimeProvider time, bool? dryRun, [FromQuery(Name = "override")] string? overrideWhat, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var caller = BearerAuth.CallerOf(http);
        var (text, error) = await ReadSpecAsync(http.Request, ct);
        if (error is not null) return error;
        var parsed = JobSpecYaml.Parse(text!, "the job spec", new JobSpecYamlOptions { OfferedGpuModels = rt.OfferedGpuModels });
        if (!parsed.IsValid) return Problems.Validation(parsed.ErrorsByPath().ToDictionary(), $"The job spec has {parsed.Errors.Count} error(s); see 'errors' (keyed by field path).");
        var draft = parsed.Draft!;
        if (draft.Lab is { } lab && !caller.CanSeeLab(lab))
            return Problems.Create(StatusCodes.Status403Forbidden, "Forbidden", $"lab: you ({caller.Name}) belong to lab '{caller.Lab}' and may not submit to lab '{lab}'. To fix: remove 'lab:' or name your own lab.",
                new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["lab"] = [$"not your lab: '{lab}'"] } });
        if (overrideWhat is not null && overrideWhat != "budget")
            return Problems.Field("override", $"'{overrideWhat}' cannot be overridden. To fix: use override=budget, or drop it.");
        if (overrideWhat is not null && !caller.IsAdmin)
            return Problems.Forbidden("Only an admin may override the budget gate. To fix: ask an admin, or drop override=budget.");
        var now = time.GetUtcNow();
        var spec = draft.ToJobSpec(JobIds.New(now), caller.Name, caller.Lab, now);
        if (dryRun == true)
            return await DryRunEndpoint.RunAsync(http, store, rt, spec, now, ct);
        // Over budget: accepted but held (committed with the reason); an admin's override=budget releases it at once.
        var hold = await CostEndpoints.HoldReasonAsync(store, rt, spec, now, ct);
        var result = await store.SubmitAsync(spec, text!, hold, now, ct);
        switch (result.Rejection)
        {
            case SubmitRejectionKind.QueuedJobsQuota:
                metrics.ObserveRejectedSubmission();
                return Problems.Create(StatusCodes.Status429TooManyRequests, "Over quota", $"{result.Reason} To fix: wait for queued jobs to start or end, or ask your lab lead to raise the quota.",
                    new Dictionary<string, object?> { ["reason"] = result.Reason });
            case SubmitRejectionKind.UnknownLab:
                return Problems.Field("lab", result.Reason ?? $"lab '{spec.Lab}' does not exist.");
            case SubmitRejectionKind.DuplicateId:
                return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"{result.Reason} To fix: submit again.");
        }
        var job = result.Job!;
        if (hold is not null && overrideWhat == "budget")
            job = await store.ReleaseHoldAsync(job.Id, $"released by admin {caller.Name} at submission (override=budget; was {hold})", now, ct) ?? job;
        var dto = ControlPlaneRuntime.ToDto(job);
        metrics.ObserveSubmission(Stopwatch.GetElapsedTime(started));
        signal.Set();
        return Results.Created($"/api/v1/jobs/{Uri.EscapeDataString(dto.Id)}", dto);
    }

    /// <summary>The spec from a YAML/text body or a JSON <see cref="SubmitJobRequest"/>; 413 over the
    /// size limit, 415 for other media types.</summary>
    private static async Task<(string? Text, IResult? Error)> ReadSpecAsync(HttpRequest request, CancellationToken ct)
    {
        var media = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        string body;
        try
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(ct);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.Create(StatusCodes.Status413PayloadTooLarge, "Request body too large",
                "The request body is over the server's limit (1 MiB by default). To fix: send a smaller job spec; large data belongs in the job's work dir, not in the spec."));
        }
        switch (media)
        {
            case "application/json":
                SubmitJobRequest? req;
                try { req = JsonSerializer.Deserialize(body, GureumJsonContext.Default.SubmitJobRequest); }
                catch (JsonException e) { return (null, Problems.Field("$", $"The body is not valid JSON: {e.Message} To fix: send {{\"specYaml\": \"...\"}} or the YAML itself with Content-Type application/yaml.")); }
                if (string.IsNullOrWhiteSpace(req?.SpecYaml)) return (null, Problems.Field("specYaml", "specYaml is missing or empty. To fix: put the job spec YAML in specYaml."));
                return (req.SpecYaml, null);
            case "" or "application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml" or "text/plain":
                return (body, null);
            default:
                return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                    $"Content-Type '{request.ContentType}' is not accepted. To fix: send the YAML with Content-Type application/yaml (or text/plain), or JSON {{\"specYaml\": ...}}."));
        }
    }

    private static async Task<IResult> ListJobsAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt,
        string? status, string? lab, string? user, bool? all, int? limit, string? cursor, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var errors = new Dictionary<string, string[]>();
        if (status is not null && !JobStatuses.All.Contains(status, StringComparer.OrdinalIgnoreCase))
            errors["status"] = [$"'{status}' is not a status. To fix: use one of {string.Join(", ", JobStatuses.All)}."];
        if (limit is < 1 or > MaxLimit) errors["limit"] = [$"{limit} is out of range. To fix: give 1 to {MaxLimit}."];
        if (errors.Count > 0) return Problems.Validation(errors);

        // Scope: your own jobs; with all=true (or a lab/user filter) what your role may see.
        string? scopeLab = null, scopeUser = null;
        var widen = all == true || lab is not null || user is not null;
        if (!widen) scopeUser = caller.Name;
        else if (caller.IsAdmin) { scopeLab = lab; scopeUser = user; }
        else if (caller.IsLabLead)
        {
            if (lab is not null && !caller.CanSeeLab(lab)) return Problems.NotFound($"Lab '{lab}'");
            scopeLab = caller.Lab;
            scopeUser = user;
        }
        else
        {
            if (lab is not null && !caller.CanSeeLab(lab)) return Problems.NotFound($"Lab '{lab}'");
            if (user is not null && user != caller.Name)
                return Problems.Forbidden($"A researcher sees only their own jobs, not {user}'s. To fix: ask your lab lead, or drop user=.");
            scopeUser = caller.Name;
            scopeLab = caller.Lab;
        }
        IReadOnlyList<Core.Domain.JobStatus>? statuses = status is null ? null : [Enum.Parse<Core.Domain.JobStatus>(status, ignoreCase: true)];
        Page<JobRecord> page;
        try
        {
            page = await store.ListJobsAsync(new JobQuery { Lab = scopeLab, User = scopeUser, Statuses = statuses, Limit = limit ?? 100, Cursor = cursor }, ct);
        }
        catch (ArgumentException e) when (cursor is not null)
        {
            return Problems.Field("cursor", $"'{cursor}' is not a cursor this server gave ({e.Message}). To fix: pass the nextCursor of the previous page, or none.");
        }
        return Results.Ok(new PageDto<JobDto>(page.Items.Select(rt.Describe).ToList(), page.NextCursor));
    }

    /// <summary>The job if the caller may act on it; else the 404 (not there or another lab's) or 403 to answer.</summary>
    internal static async Task<(JobRecord? Job, IResult? Error)> VisibleJobAsync(HttpContext http, IControlPlaneStore store, string id, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var job = await store.GetJobAsync(id, ct);
        if (job is null || !caller.CanSeeLab(job.Spec.Lab)) return (null, Problems.NotFound($"Job '{id}'"));
        if (!caller.CanManageJob(job.Spec.Lab, job.Spec.User))
            return (null, Problems.Forbidden($"Job '{id}' belongs to {job.Spec.User}; a researcher sees and cancels only their own jobs. To fix: ask {job.Spec.User} or your lab lead."));
        return (job, null);
    }

    private static async Task<IResult> GetJobAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, string id, CancellationToken ct)
    {
        var (job, error) = await VisibleJobAsync(http, store, id, ct);
        return error ?? Results.Ok(rt.Describe(job!));
    }

    private static async Task<IResult> CancelAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, LoopSignal signal, TimeProvider time, string id, CancellationToken ct)
    {
        var (job, error) = await VisibleJobAsync(http, store, id, ct);
        if (error is not null) return error;
        var caller = BearerAuth.CallerOf(http);
        var updated = await store.RequestCancelAsync(id, $"cancelled by {caller.Name}", time.GetUtcNow(), ct) ?? job!;
        signal.Set();
        return Results.Json(ControlPlaneRuntime.ToDto(updated), statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> JobEventsAsync(HttpContext http, IControlPlaneStore store, string id, long? after, int? limit, CancellationToken ct)
    {
        var (_, error) = await VisibleJobAsync(http, store, id, ct);
        if (error is not null) return error;
        if (limit is < 1 or > MaxLimit) return Problems.Field("limit", $"{limit} is out of range. To fix: give 1 to {MaxLimit}.");
        var page = await store.ListEventsAsync(new EventQuery { JobId = id, After = after, Limit = limit ?? MaxLimit }, ct);
        return Results.Ok(ToPage(page));
    }

    private static async Task<IResult> EventsAsync(HttpContext http, IControlPlaneStore store, string? job, long? after, int? limit, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (job is not null) return await JobEventsAsync(http, store, job, after, limit, ct);
        if (!caller.IsAdmin)
            return Problems.Forbidden("The whole event log is for admins. To fix: pass job=ID for the events of a job you can see.");
        if (limit is < 1 or > MaxLimit) return Problems.Field("limit", $"{limit} is out of range. To fix: give 1 to {MaxLimit}.");
        var page = await store.ListEventsAsync(new EventQuery { After = after, Limit = limit ?? 100 }, ct);
        return Results.Ok(ToPage(page));
    }

    private static PageDto<EventDto> ToPage(Page<EventRecord> page) =>
        new(page.Items.Select(e => new EventDto(e.Id, e.Event.At, e.Event.Kind.ToString(), e.Event.JobId, e.Event.NodeId, e.Event.Message)).ToList(), page.NextCursor);

    private static async Task<IResult> LogsAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, TimeProvider time,
        string id, string? stream, bool? follow, long? offset, CancellationToken ct)
    {
        var (_, error) = await VisibleJobAsync(http, store, id, ct);
        if (error is not null) return error;
        stream ??= "stdout";
        if (stream is not ("stdout" or "stderr")) return Problems.Field("stream", $"'{stream}' is not a stream. To fix: use stdout or stderr.");
        if (offset is < 0) return Problems.Field("offset", $"{offset} is negative. To fix: give a byte offset of 0 or more.");
        if (!rt.Backends.KeepsLogs)
            return Problems.Create(StatusCodes.Status404NotFound, "No logs", "The sim backend runs no processes, so it keeps no logs. To fix: use --backend local to run real jobs.");
        if (follow == true)
        {
            // Wait for the job to start (it may be queued), then stream until it ends.
            while (await store.GetJobAsync(id, ct) is { Status: Core.Domain.JobStatus.Pending })
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct);
        }
        http.Response.ContentType = "text/plain; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.StartAsync(ct);
        await rt.Backends.CopyLogAsync(id, stream, offset ?? 0, follow == true, http.Response.Body, ct);
        return Results.Empty;
    }

    // ---------- tenancy ----------

    private static async Task<IResult> ListLabsAsync(HttpContext http, IControlPlaneStore store, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var labs = await store.ListLabsAsync(ct);
        return Results.Ok(labs.Where(l => caller.CanSeeLab(l.Name)).Select(ToDto).ToArray());
    }

    private static LabDto ToDto(Lab l) => new(l.Name, l.MaxConcurrentGpus, l.MaxQueuedJobs, l.MonthlyBudgetUsd);

    private static IResult? CheckLab(LabDto lab)
    {
        var errors = new Dictionary<string, string[]>();
        if (!JobSpecYaml.IsValidName(lab.Name)) errors["name"] = [$"'{lab.Name}' is not a valid name. To fix: letters, digits, '.', '-', '_', 1 to 63 characters."];
        if (lab.MaxConcurrentGpus is < 0) errors["maxConcurrentGpus"] = ["must be 0 or more (or omitted for no quota)."];
        if (lab.MaxQueuedJobs is < 0) errors["maxQueuedJobs"] = ["must be 0 or more (or omitted for no quota)."];
        if (lab.MonthlyBudgetUsd is < 0) errors["monthlyBudgetUsd"] = ["must be 0 or more (or omitted for no budget)."];
        return errors.Count > 0 ? Problems.Validation(errors) : null;
    }

    private static async Task<IResult> CreateLabAsync(HttpContext http, IControlPlaneStore store, LabDto? lab, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (!caller.IsAdmin) return Problems.Forbidden("Only an admin creates labs. To fix: ask an admin.");
        if (lab is null) return Problems.Field("$", "The body must be a lab: {\"name\": \"nlp\", \"maxConcurrentGpus\": 8, ...}.");
        if (CheckLab(lab) is { } bad) return bad;
        var saved = new Lab(lab.Name, lab.MaxConcurrentGpus, lab.MaxQueuedJobs, lab.MonthlyBudgetUsd);
        if (!await store.AddLabAsync(saved, ct))
            return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"Lab '{lab.Name}' exists. To fix: PUT /api/v1/labs/{lab.Name} to change it.");
        return Results.Created($"/api/v1/labs/{Uri.EscapeDataString(saved.Name)}", ToDto(saved));
    }

    private static async Task<IResult> UpdateLabAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, LoopSignal signal, TimeProvider time, string name, LabDto? lab, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (!caller.CanSeeLab(name)) return Problems.NotFound($"Lab '{name}'");
        if (!caller.IsAdmin) return Problems.Forbidden("Only an admin changes quotas and budgets. To fix: ask an admin.");
        if (lab is null) return Problems.Field("$", "The body must be a lab: {\"maxConcurrentGpus\": 8, \"maxQueuedJobs\": 100, \"monthlyBudgetUsd\": 5000}.");
        lab = lab with { Name = name }; // the name in the URL wins
        if (CheckLab(lab) is { } bad) return bad;
        // The lab's alert thresholds are not part of LabDto: keep them (PUT /labs/{lab}/budget sets them).
        if (await store.GetLabAsync(name, ct) is not { } existing) return Problems.NotFound($"Lab '{name}'");
        var saved = new Lab(name, lab.MaxConcurrentGpus, lab.MaxQueuedJobs, lab.MonthlyBudgetUsd, existing.AlertThresholdsPercent);
        if (!await store.UpdateLabAsync(saved, ct)) return Problems.NotFound($"Lab '{name}'");
        if ((await CostEndpoints.ReevaluateHoldsAsync(store, rt.Offers, [saved], null, time.GetUtcNow(), ct)).Count > 0) signal.Set();
        return Results.Ok(ToDto(saved));
    }

    private static async Task<IResult> ListUsersAsync(HttpContext http, IControlPlaneStore store, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (!caller.IsAdmin && !caller.IsLabLead) return Problems.Forbidden("Researchers cannot list users. To fix: ask your lab lead.");
        var users = await store.ListUsersAsync(caller.IsAdmin ? null : caller.Lab, ct);
        return Results.Ok(users.Select(u => new UserDto(u.Name, u.Lab, u.Role.ToString())).ToArray());
    }

    private static async Task<IResult> CreateUserAsync(HttpContext http, IControlPlaneStore store, TimeProvider time, CreateUserRequest? req, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (!caller.IsAdmin && !caller.IsLabLead) return Problems.Forbidden("Researchers cannot create users. To fix: ask your lab lead.");
        if (req is null) return Problems.Field("$", "The body must be {\"name\": \"alice\", \"lab\": \"nlp\", \"role\": \"Researcher\"}.");
        var errors = new Dictionary<string, string[]>();
        if (!JobSpecYaml.IsValidName(req.Name)) errors["name"] = [$"'{req.Name}' is not a valid name. To fix: letters, digits, '.', '-', '_', 1 to 63 characters."];
        if (!Enum.TryParse<Role>(req.Role, ignoreCase: true, out var role) || !Roles.All.Contains(role.ToString()))
            errors["role"] = [$"'{req.Role}' is not a role. To fix: use one of {string.Join(", ", Roles.All)}."];
        if (errors.Count > 0) return Problems.Validation(errors);
        if (!caller.CanSeeLab(req.Lab) || await store.GetLabAsync(req.Lab, ct) is null) return Problems.NotFound($"Lab '{req.Lab}'");
        if (!caller.IsAdmin && role == Role.Admin) return Problems.Forbidden("Only an admin creates admins. To fix: ask an admin.");
        var user = new User(req.Name, req.Lab, role);
        switch (await store.AddUserAsync(user, ct))
        {
            case AddUserResult.Exists:
                return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"User '{req.Name}' exists. To fix: choose another name.");
            case AddUserResult.UnknownLab:
                return Problems.NotFound($"Lab '{req.Lab}'");
        }
        var token = await store.CreateTokenAsync(user.Name, time.GetUtcNow(), ct)
            ?? throw new InvalidOperationException($"user {user.Name} vanished right after it was created");
        return Results.Created($"/api/v1/users/{Uri.EscapeDataString(user.Name)}", new CreateUserResponse(new UserDto(user.Name, user.Lab, user.Role.ToString()), token.Token));
    }

    private static async Task<IResult> QuotasAsync(HttpContext http, IControlPlaneStore store, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var labs = await store.ListLabsAsync(ct);
        var queued = await store.CountQueuedByLabAsync(ct);
        var running = await store.RunningMilliGpusByLabAsync(ct);
        return Results.Ok(labs.Where(l => caller.CanSeeLab(l.Name)).Select(l => new QuotaDto(l.Name, l.MaxConcurrentGpus,
            running.GetValueOrDefault(l.Name) / 1000.0, l.MaxQueuedJobs, queued.GetValueOrDefault(l.Name))).ToArray());
    }
}
