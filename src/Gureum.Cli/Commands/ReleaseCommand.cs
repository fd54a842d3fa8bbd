using System.CommandLine;
using Gureum.Cli.Remote;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum release ID</c>: an admin releases a job the budget gate held, so the scheduler may
/// start it. Exit codes: 0 released, 5 not an admin (403), 6 no such job (404), 7 the job is not
/// held (409), 4 server unreachable.
/// </summary>
internal static class ReleaseCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Id of the held job (gureum ls shows 'held: …' in its NOTE)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("release", "Release a job held by the budget gate (admins only); it is then scheduled like any pending job. Exit 0 released, 5 not an admin, 6 no such job, 7 not held.")
        {
            id, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var job = await client.ReleaseAsync(p.GetValue(id)!, ct);
            if (p.GetValue(json)) CliOutput.Json(job);
            else Console.WriteLine($"Released job {job.Id} ({job.Status}); it is scheduled like any pending job now. gureum show {job.Id} tells when it starts.");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
