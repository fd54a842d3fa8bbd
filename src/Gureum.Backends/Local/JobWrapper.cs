namespace Gureum.Backends.Local;

/// <summary>
/// The shell wrapper every local job runs under. It outlives the server: it records the job's exit
/// code to a file, so an exit that happens while the server is down is still known at restart.
/// </summary>
/// <remarks>
/// Started by the executor as <c>setsid sh wrapper.sh RUN_DIR CAP -- COMMAND…</c>, so it leads a
/// session of its own (a Ctrl-C or SIGKILL of the server does not reach it). It then
/// <list type="number">
/// <item>writes its pid to <c>wrapper.pid</c>;</item>
/// <item>starts two log cappers reading FIFOs: each copies (unbuffered) the first CAP bytes to
/// <c>stdout.log</c> / <c>stderr.log</c>, then, if more comes, appends one marker line and discards
/// the rest (so a chatty job never blocks on a full pipe and never fills the disk);</item>
/// <item>starts the job in a new session (its own process group, whose id is written to
/// <c>job.pid</c>), after moving it into its cgroups (<c>GUREUM_CGROUP_PROCS</c>);</item>
/// <item>waits for it, kills whatever is left of its process group (a job ends when its main process
/// does), waits for the cappers to drain, and writes the exit code to <c>exit_code</c> (atomically,
/// through a rename). 128+N means killed by signal N.</item>
/// </list>
/// The wrapper ignores nothing the job could inherit: it traps TERM/INT/HUP with a handler (reset on
/// exec), so signals meant for it do not end it before it records the exit.
/// </remarks>
internal static class JobWrapper
{
    public const string FileName = "wrapper.sh";
    public const string ExitCodeFile = "exit_code";
    public const string JobPidFile = "job.pid";
    public const string WrapperPidFile = "wrapper.pid";
    public const string StdoutFile = "stdout.log";
    public const string StderrFile = "stderr.log";
    public const string WrapperLogFile = "wrapper.log";

    /// <summary>The marker line appended when a log reaches its cap (printf format, %s = cap in bytes).</summary>
    public const string CapMarker = "[gureum: log capped at %s bytes; the rest of this stream was discarded]";

    public const string Script = """
#!/bin/sh
# Gureum local job wrapper. Usage: setsid sh wrapper.sh RUN_DIR CAP_BYTES -- COMMAND [ARGS...]
dir=$1; cap=$2; shift 3
exec </dev/null >>"$dir/wrapper.log" 2>&1
echo $$ > "$dir/wrapper.pid"
trap ':' TERM INT HUP
# head -c reads no more than it copies; stdbuf -o0 makes it write each chunk at once (log follow).
sb=; command -v stdbuf >/dev/null 2>&1 && sb="stdbuf -o0"
capped() {
  trap '' TERM INT HUP
  $sb head -c "$cap" > "$1"
  if [ "$(head -c 1 | wc -c)" -gt 0 ]; then
    printf '\n__MARKER__\n' "$cap" >> "$1"
    cat > /dev/null
  fi
}
rm -f "$dir/.out" "$dir/.err"
mkfifo "$dir/.out" "$dir/.err" || { echo 127 > "$dir/exit_code.tmp"; mv "$dir/exit_code.tmp" "$dir/exit_code"; exit 127; }
capped "$dir/stdout.log" < "$dir/.out" &
cap_out=$!
capped "$dir/stderr.log" < "$dir/.err" &
cap_err=$!
cgs=$GUREUM_CGROUP_PROCS
unset GUREUM_CGROUP_PROCS
setsid sh -c 'for f in $0; do echo $$ > "$f" || exit 126; done; exec "$@"' "$cgs" "$@" > "$dir/.out" 2> "$dir/.err" &
job=$!
echo $job > "$dir/job.pid.tmp" && mv "$dir/job.pid.tmp" "$dir/job.pid"
while :; do
  wait $job
  code=$?
  kill -0 $job 2>/dev/null || break
done
kill -KILL -$job 2>/dev/null
wait $cap_out $cap_err
rm -f "$dir/.out" "$dir/.err"
echo $code > "$dir/exit_code.tmp" && mv "$dir/exit_code.tmp" "$dir/exit_code"
exit $code
""";

    /// <summary>The script with the marker filled in.</summary>
    public static string Text => Script.Replace("__MARKER__", CapMarker, StringComparison.Ordinal);
}
