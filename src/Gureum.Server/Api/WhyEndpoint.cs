using System.Globalization;
using Gureum.Contracts.Api;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gureum.Server.Api;

/// <summary>
/// <c>GET /api/v1/jobs/{id}/why</c>: the job's state and wait reason as the control loop's last
/// decision recorded them, its lab's GPU quota in use now, and its decision history from the event
/// log (submitted, started on node N of offer O in market M and zone Z and why, preempted why,
/// requeued, …), each start with its node's offer, market, zone and price. Same visibility as
/// <c>GET /api/v1/jobs/{id}</c>: a researcher their own jobs, a lab lead the lab's, an admin all;
/// another lab's job is 404.
/// </summary>
internal static class WhyEndpoint
{
    /// <summary>Most events a timeline shows (the oldest ones; a job with more is truncated, and says so).</summary>
    public const int MaxEvents = 5000;

    public static void Map(RouteGroupBuilder jobs) =>
        jobs.MapGet("/{id}/why", WhyAsync).Produces<JobWhyDto>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("Why the job is where it is: state, wait reason (what it waits for and for whom), lab quota in use, and every recorded decision about it with the node, offer, market and zone.");

    private static async Task<IResult> WhyAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, TimeProvider time, string id, CancellationToken ct)
    {
        var (job, error) = await Endpoints.VisibleJobAsync(http, store, id, ct);
        if (error is not null) return error;

        var events = new List<EventRecord>();
        long? after = null;
        var truncated = false;
        while (true)
        {
            var page = await store.ListEventsAsync(new EventQuery { JobId = id, After = after, Limit = 1000 }, ct);
            events.AddRange(page.Items);
            if (page.NextCursor is null) break;
            if (events.Count >= MaxEvents) { truncated = true; break; }
            after = long.Parse(page.NextCursor, CultureInfo.InvariantCulture);
        }

        Dictionary<string, Node>? nodes = null;
        if (events.Exists(e => e.Event.NodeId is not null))
            nodes = (await store.ListNodesAsync(includeTerminated: true, ct)).ToDictionary(n => n.Id, n => n.Node, StringComparer.Ordinal);
        var timeline = events.Select(e => Step(e.Event, e.Event.NodeId is { } n ? nodes!.GetValueOrDefault(n) : null)).ToList();
        if (truncated)
            timeline.Add(new WhyStepDto { At = timeline[^1].At, Kind = "Truncated", Message = $"only the first {events.Count} events are shown; GET /api/v1/jobs/{id}/events pages through all" });

        var dto = rt.Describe(job!);
        var bought = events.Where(e => e.Event.Kind == EventKind.NodeRequested && e.Event.NodeId is not null)
            .Select(e => Bought(e.Event, nodes!.GetValueOrDefault(e.Event.NodeId!))).ToList();
        return Results.Ok(new JobWhyDto
        {
            Job = dto,
            Summary = Summarize(job!, dto, events, bought, time.GetUtcNow()),
            LabQuota = await QuotaAsync(store, job!.Spec.Lab, ct),
            Timeline = timeline,
            NodesBought = bought,
        });
    }

    /// <summary>A node bought for the job, from its <see cref="EventKind.NodeRequested"/> event
    /// (message "<c>OFFER MARKET: reason</c>") and the node as it is now.</summary>
    private static NodeBoughtDto Bought(ClusterEvent e, Node? node)
    {
        var prefix = node is null ? null : $"{node.Offer.Id} {node.Market}: ";
        var reason = prefix is not null && e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
        var expected = node is { ReadyAt: null, State: NodeState.Requested or NodeState.Booting };
        return new NodeBoughtDto
        {
            NodeId = e.NodeId!,
            At = e.At,
            Offer = node?.Offer.Id,
            InstanceType = node?.Offer.InstanceType,
            Market = node?.Market.ToString(),
            Zone = node?.Offer.Zone,
            GpuModel = node?.Offer.GpuModel,
            PricePerHour = node?.Offer.PricePerHour(node.Market),
            State = node?.State.ToString(),
            ReadyAt = node?.ReadyAt ?? (expected ? node!.RequestedAt + node.Offer.BootDelay : null),
            ReadyExpected = expected,
            Reason = reason,
        };
    }

    /// <summary>"node n000012 (p4d.24xlarge, Spot, zone us-east-1a, $9.8/h) was bought for it at T, ready ~T' (boot 120 s): reason".</summary>
    private static string Describe(NodeBoughtDto b)
    {
        var price = b.PricePerHour is { } p ? $", ${p.ToString("0.####", CultureInfo.InvariantCulture)}/h" : "";
        var what = b.Offer is null ? "" : $" ({b.InstanceType}, {b.Market}, zone {b.Zone}{price})";
        var ready = b.ReadyAt is not { } r ? $" ({b.State ?? "unknown"})"
            : b.ReadyExpected ? $", ready ~{Clock(r)} ({(r - b.At).TotalSeconds:0} s after the request)"
            : $", ready at {Clock(r)}{(b.State == nameof(NodeState.Terminated) ? ", since terminated" : "")}";
        return $"node {b.NodeId}{what} was bought for it at {Clock(b.At)}{ready}: {b.Reason}";
    }

    private static string Clock(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    private static WhyStepDto Step(ClusterEvent e, Node? node) => new()
    {
        At = e.At,
        Kind = e.Kind.ToString(),
        Message = e.Message,
        NodeId = e.NodeId,
        Offer = node?.Offer.Id,
        Market = node?.Market.ToString(),
        Zone = node?.Offer.Zone,
        GpuModel = node?.Offer.GpuModel,
        PricePerHour = node?.Offer.PricePerHour(node.Market),
    };

    private static string Summarize(JobRecord job, JobDto dto, List<EventRecord> events, List<NodeBoughtDto> bought, DateTimeOffset now)
    {
        var lastStart = events.LastOrDefault(e => e.Event.Kind == EventKind.JobStarted)?.Event;
        var last = events.Count > 0 ? events[^1].Event : null;
        switch (job.Status)
        {
            case JobStatus.Pending:
                var since = events.LastOrDefault(e => e.Event.Kind is EventKind.JobSubmitted or EventKind.JobRequeued)?.Event.At ?? job.SubmittedAt;
                var waited = now - since;
                // The nodes bought for it since it (re)entered the queue and not lost since.
                var forIt = bought.Where(b => b.At >= since && b.State != nameof(NodeState.Terminated)).Select(Describe).ToList();
                return $"Pending for {Span(waited)} (since {Clock(since)}): " +
                       (job.WaitReason ?? "not yet considered by a decision (the control loop decides within a tick of a submission)") +
                       (forIt.Count == 0 ? "" : "; " + string.Join("; ", forIt));
            case JobStatus.Running:
                var onBought = lastStart is null ? null : bought.LastOrDefault(b => b.NodeId == lastStart.NodeId && b.At <= lastStart.At);
                return lastStart is null
                    ? $"Running on {string.Join(", ", dto.Nodes)}"
                    : $"Running since {Clock(lastStart.At)}: {lastStart.Message}" + (onBought is null ? "" : $"; {Describe(onBought)}");
            case JobStatus.Unschedulable:
                return $"Unschedulable: {job.WaitReason ?? last?.Message ?? "it fits no node or offer it may use"}";
            default:
                var ended = job.EndedAt is { } e ? $" at {Clock(e)}" : "";
                return $"{job.Status}{ended}" + (last is null ? "" : $": {last.Message}") +
                       (lastStart is null ? "" : $"; last run started {Clock(lastStart.At)} ({lastStart.Message})");
        }
    }

    private static string Span(TimeSpan d) =>
        d.TotalSeconds < 60 ? $"{Math.Max(0, d.TotalSeconds):0}s" : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes}m{d.Seconds:00}s" : $"{(int)d.TotalHours}h{d.Minutes:00}m";

    private static async Task<QuotaDto?> QuotaAsync(IControlPlaneStore store, string labName, CancellationToken ct)
    {
        if (await store.GetLabAsync(labName, ct) is not { } lab || (lab.MaxConcurrentGpus is null && lab.MaxQueuedJobs is null)) return null;
        var running = await store.RunningMilliGpusByLabAsync(ct);
        var queued = await store.CountQueuedByLabAsync(ct);
        return new QuotaDto(lab.Name, lab.MaxConcurrentGpus, running.GetValueOrDefault(lab.Name) / 1000.0, lab.MaxQueuedJobs, queued.GetValueOrDefault(lab.Name));
    }
}
