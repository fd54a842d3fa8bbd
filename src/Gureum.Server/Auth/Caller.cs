using Gureum.Contracts.Api;

namespace Gureum.Server.Auth;

/// <summary>The authenticated user of a request (set by <see cref="BearerAuth"/>).</summary>
/// <param name="Name">User name.</param>
/// <param name="Lab">Their lab.</param>
/// <param name="Role">One of <see cref="Roles"/>.</param>
public sealed record Caller(string Name, string Lab, string Role)
{
    /// <summary>Admins see and manage everything.</summary>
    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>Lab leads see and manage their lab.</summary>
    public bool IsLabLead => Role == Roles.LabLead;

    /// <summary>Whether a resource of <paramref name="lab"/> exists for this caller at all. A
    /// resource of another lab is answered 404, as if it did not exist, so names do not leak.</summary>
    public bool CanSeeLab(string lab) => IsAdmin || string.Equals(lab, Lab, StringComparison.Ordinal);

    /// <summary>Whether the caller may read and cancel a job of <paramref name="user"/> in <paramref name="lab"/>:
    /// their own jobs; a lab lead their lab's; an admin all.</summary>
    public bool CanManageJob(string lab, string user) =>
        IsAdmin || (CanSeeLab(lab) && (IsLabLead || string.Equals(user, Name, StringComparison.Ordinal)));

    /// <summary>The API's view of the caller.</summary>
    public UserDto ToDto() => new(Name, Lab, Role);
}
