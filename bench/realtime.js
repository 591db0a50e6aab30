// Running a benchmark's processes under SCHED_FIFO for a while (Linux, chrt from util-linux, root or CAP_SYS_NICE).
//
// When the load generator, the upstream and the proxy under test share a few cores, the default scheduler lets a
// process that a packet has just woken wait behind another one's time slice; a request crosses four such wake-ups,
// so the rig's own contention puts milliseconds into every tail. Under SCHED_FIFO at one priority, a woken process
// runs as soon as a core is free and is not preempted by its peers. Nothing else on the machine is starved as long as
// the processes leave cores idle (the kernel also caps real-time tasks at 95% of each second by default).
const { spawnSync } = require("node:child_process");

const PRIORITY = 10;

function chrt(args) {
  const r = spawnSync("chrt", args, { encoding: "utf8" });
  return r.error ? r.error.message : r.status === 0 ? undefined : (r.stderr || `chrt exited with ${r.status}`).trim();
}

/** Why SCHED_FIFO cannot be used here, or undefined if it can. */
function realtimeUnavailable() {
  if (process.platform !== "linux") return "not Linux";
  return chrt(["-f", String(PRIORITY), "true"]);
}

/** Moves every thread of `pids` to SCHED_FIFO for the duration of `fn`, then back to SCHED_OTHER. */
async function withRealtime(pids, fn) {
  const moved = [];
  try {
    for (const pid of pids) {
      const err = chrt(["-a", "-f", "-p", String(PRIORITY), String(pid)]);
      if (err) throw new Error(`chrt -f for process ${pid}: ${err}`);
      moved.push(pid);
    }
    return await fn();
  } finally {
    for (const pid of moved) chrt(["-a", "-o", "-p", "0", String(pid)]);
  }
}

module.exports = { realtimeUnavailable, withRealtime };
