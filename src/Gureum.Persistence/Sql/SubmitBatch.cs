using System.Globalization;
using System.Text;
using Gureum.Core.Control;
using Gureum.Core.Domain;

namespace Gureum.Persistence.Sql;

/// <summary>
/// Inserts a run of submissions inside the writer's transaction with a handful of statements,
/// whatever their number: read the labs' quotas and queue counts, find existing ids, insert the
/// accepted jobs and their events as multi-row inserts. Decisions are made in arrival order, so the
/// queued-jobs quota admits exactly as many as it allows.
/// </summary>
internal static class SubmitBatch
{
    /// <summary>Rows per multi-row insert (bounded so parameter counts stay far below both databases' limits).</summary>
    private const int Chunk = 200;

    /// <summary>One submission.</summary>
    /// <param name="Spec">The job.</param>
    /// <param name="SpecText">What the user submitted.</param>
    /// <param name="SpecJson">The spec as JSON (serialized by the caller, off the writer's thread).</param>
    /// <param name="Now">Submission time.</param>
    /// <param name="CheckQuota">False for jobs the control loop adds itself.</param>
    /// <param name="Hold">Why the job is held (it is accepted but not started until released), or null.</param>
    internal sealed record Request(JobSpec Spec, string SpecText, string SpecJson, DateTimeOffset Now, bool CheckQuota, string? Hold = null);

    public static async ValueTask<SubmitResult[]> ExecuteAsync(WriteContext w, IReadOnlyList<Request> requests)
    {
        var existing = await LoadLabsAndExistingIdsAsync(w,
            requests.Select(r => r.Spec.Lab).Distinct(StringComparer.Ordinal).Where(l => !w.LabQueues.ContainsKey(l)).ToList(),
            requests.Select(r => r.Spec.Id).Distinct(StringComparer.Ordinal).ToList());

        var results = new SubmitResult[requests.Count];
        var accepted = new List<int>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var (spec, _, _, _, checkQuota, _) = requests[i];
            var q = w.LabQueues[spec.Lab];
            if (!q.Exists)
                results[i] = SubmitResult.Rejected(SubmitRejectionKind.UnknownLab, $"Lab '{spec.Lab}' does not exist. Ask an admin to create it, or submit to your own lab.");
            else if (existing.Contains(spec.Id) || w.JobIds.Contains(spec.Id))
                results[i] = SubmitResult.Rejected(SubmitRejectionKind.DuplicateId, $"A job with id '{spec.Id}' already exists.");
            else if (checkQuota && q.MaxQueued is { } max && q.Queued >= max)
                results[i] = SubmitResult.Rejected(SubmitRejectionKind.QueuedJobsQuota,
                    $"Lab '{spec.Lab}' already has {q.Queued} queued jobs, its quota of queued jobs is {max}. Wait until some start, cancel some, or ask an admin to raise the quota.");
            else
            {
                q.Queued++;
                w.JobIds.Add(spec.Id);
                accepted.Add(i);
            }
        }

        foreach (var (lab, n) in accepted.GroupBy(i => requests[i].Spec.Lab).Select(g => (g.Key, g.Count())))
            await AddQueuedAsync(w, lab, n);

        for (var start = 0; start < accepted.Count; start += Chunk)
        {
            var chunk = accepted.GetRange(start, Math.Min(Chunk, accepted.Count - start));
            var seqs = await InsertJobsAndEventsAsync(w, chunk.Select(i => requests[i]).ToList());
            foreach (var i in chunk)
            {
                var r = requests[i];
                results[i] = SubmitResult.Ok(new JobRecord { Spec = r.Spec, SpecText = r.SpecText, Seq = seqs[r.Spec.Id], Status = JobStatus.Pending, SubmittedAt = r.Now, Hold = r.Hold });
            }
        }
        return results;
    }

    private static string In(string prefix, int n)
    {
        var sb = new StringBuilder("(");
        for (var i = 0; i < n; i++) sb.Append(i == 0 ? "@" : ", @").Append(prefix).Append(i.ToString(CultureInfo.InvariantCulture));
        return sb.Append(')').ToString();
    }

    /// <summary>One round trip: the labs' quotas with their queue counters (<c>labs.queued</c>, kept
    /// by every change into or out of Pending in the same transaction), and which ids already exist.</summary>
    private static async ValueTask<HashSet<string>> LoadLabsAndExistingIdsAsync(WriteContext w, List<string> labs, List<string> ids)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in labs) w.LabQueues[l] = new LabQueue();
        for (var start = 0; start < Math.Max(labs.Count, ids.Count); start += Chunk)
        {
            var labPart = start < labs.Count ? labs.GetRange(start, Math.Min(Chunk, labs.Count - start)) : [];
            var idPart = start < ids.Count ? ids.GetRange(start, Math.Min(Chunk, ids.Count - start)) : [];
            var sql = new StringBuilder();
            if (labPart.Count > 0)
                sql.Append("SELECT name, max_queued, queued FROM labs WHERE name IN ").Append(In("l", labPart.Count)).Append(';');
            if (idPart.Count > 0) sql.Append("SELECT id FROM jobs WHERE id IN ").Append(In("i", idPart.Count));
            var cmd = w.Command(sql.ToString());
            for (var i = 0; i < labPart.Count; i++) cmd.P("l" + i.ToString(CultureInfo.InvariantCulture), labPart[i]);
            for (var i = 0; i < idPart.Count; i++) cmd.P("i" + i.ToString(CultureInfo.InvariantCulture), idPart[i]);
            await using var r = await cmd.ExecuteReaderAsync();
            if (labPart.Count > 0)
            {
                while (await r.ReadAsync())
                {
                    var q = w.LabQueues[r.GetString(0)];
                    q.Exists = true;
                    q.MaxQueued = r.NL(1);
                    q.Queued = r.L(2);
                }
                if (idPart.Count > 0) await r.NextResultAsync();
            }
            if (idPart.Count > 0)
                while (await r.ReadAsync()) found.Add(r.GetString(0));
        }
        return found;
    }

    /// <summary>One round trip: the jobs (returning their sequence numbers) and their submitted events.</summary>
    private static async ValueTask<Dictionary<string, long>> InsertJobsAndEventsAsync(WriteContext w, List<Request> rows)
    {
        var sql = new StringBuilder("INSERT INTO jobs (id, lab, user_name, project, name, status, spec_json, spec_text, submitted_at, queued_since, hold) VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ", ").Append($"(@i{n}, @l{n}, @u{n}, @p{n}, @n{n}, 'Pending', @j{n}, @x{n}, @t{n}, @t{n}, @h{n})");
        }
        sql.Append(" RETURNING id, seq; INSERT INTO events (at, kind, job_id, node_id, message) VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ", ").Append($"(@t{n}, '{nameof(EventKind.JobSubmitted)}', @i{n}, NULL, 'submitted')");
            // A held job's hold is recorded with its submission, in the same transaction.
            if (rows[i].Hold is not null) sql.Append($", (@t{n}, '{nameof(EventKind.JobHeld)}', @i{n}, NULL, @h{n})");
        }
        var cmd = w.Command(sql.ToString());
        for (var i = 0; i < rows.Count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            var s = rows[i].Spec;
            cmd.P("i" + n, s.Id).P("l" + n, s.Lab).P("u" + n, s.User).P("p" + n, s.Project).P("n" + n, s.Name)
                .P("j" + n, rows[i].SpecJson).P("x" + n, rows[i].SpecText).P("t" + n, Db.T(rows[i].Now)).P("h" + n, rows[i].Hold);
        }
        var seqs = new Dictionary<string, long>(rows.Count, StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) seqs[r.GetString(0)] = r.L(1);
        while (await r.NextResultAsync()) { } // run the events insert
        if (seqs.Count != rows.Count) throw new InvalidOperationException($"Inserted {rows.Count} jobs but got {seqs.Count} sequence numbers back.");
        return seqs;
    }

    /// <summary>Move a lab's queued-jobs counter (job entered or left Pending).</summary>
    internal static async ValueTask AddQueuedAsync(WriteContext w, string lab, long delta)
    {
        if (delta == 0) return;
        await w.Command("UPDATE labs SET queued = queued + @d WHERE name = @l").P("d", delta).P("l", lab).ExecAsync();
    }
}
