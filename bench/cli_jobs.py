"""Throughput of `melspec --jobs N` on a directory of clips (issue 16's goal: 200 clips, 300 s
of 16 kHz audio, mel to .npy, --jobs 2 at least 1.8x --jobs 1 on a 2-core machine).

Usage: python3 bench/cli_jobs.py build/tools/cli/melspec [--jobs 1,2] [--repeats 5]
                                 [--clips 200] [--seconds 1.5] [--preset NAME]
                                 [--baseline OTHER/melspec]
       taskset -c 0,1 python3 bench/cli_jobs.py ...      (the two cores the goal is about)

The --jobs values run interleaved (1, 2, 1, 2, ...), so that a machine that gets busier or
quieter during the run affects them alike; it prints the median and the best of the repeats for
each, and the speed-ups of both. The "two processes" line is the ceiling the machine itself
sets: the same clips as two halves, each given to its own `--jobs 1` process, both at once (no
shared memory, no lock, nothing in common but the machine); --jobs 2 cannot be expected to beat
it. The "files alone" lines are the file system's share: the outputs of the run (same tree,
names and sizes) written as the command writes them (a file without a name, O_TMPFILE, one
write, linked under its name; a named temporary and rename where the file system has no
O_TMPFILE) and nothing else, by one process and by two (the two halves) at once:
where the file system itself does not scale with processes, nor can the command. The "one clip"
line is a run on the first clip alone: less that clip's share of the work, it is the command's
fixed cost (start, options, plan, decoders, exit), which no number of workers shares, and the
script prints the speed-up a perfect split of the rest would give, the most --jobs N can reach
before the machine takes its share (the two-process line). The CPU time of each case (all
threads and processes) is printed too: the work done, which a busy machine distorts much less
than the wall clock (equal CPU time for --jobs 1 and 2: the parallel run does no extra work).
MELSPEC_CLI_TIMING=1 melspec ... prints where one run's time went (per phase and worker).
--baseline runs another build of the command (say, the last commit's, built in a git worktree)
interleaved with this one, for each --jobs value, and prints this build's speed-up over it: a
change's effect, measured on a machine too noisy for two separate runs to compare.
"""
import argparse
import ctypes
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import wave

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("melspec")
parser.add_argument("--jobs", default="1,2")
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--clips", type=int, default=200)
parser.add_argument("--seconds", type=float, default=1.5)
parser.add_argument("--preset", default=None, help="e.g. realtime (default: librosa's config "
                    "at --sr 16000)")
parser.add_argument("--no-ceiling", action="store_true", help="skip the two-process line")
parser.add_argument("--no-files-alone", action="store_true", help="skip the files-alone lines")
parser.add_argument("--baseline", default=None, help="another melspec binary to compare with")
parser.add_argument("--dir", default=None, help="where the corpus and the outputs go (default: "
                    "the system's temporary directory), e.g. /dev/shm for a tmpfs")
args = parser.parse_args()

rate = 16000


def write_corpus(root):
    """args.clips speech-like clips in two halves (root/a, root/b), lengths varying a little."""
    rng = np.random.default_rng(0)
    total_frames = 0
    for i in range(args.clips):
        half = os.path.join(root, "a" if i < args.clips // 2 else "b")
        os.makedirs(half, exist_ok=True)
        n = int(args.seconds * rate) + int(rng.integers(-800, 800))
        t = np.arange(n) / rate
        f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t + i)
        phase = 2 * np.pi * np.cumsum(f0) / rate
        y = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6)) + 0.02 * rng.standard_normal(n)
        with wave.open(os.path.join(half, f"clip{i:03d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((y * 32767).astype("<i2").tobytes())
        total_frames += n
    return total_frames / rate


def command(jobs, inputs, out, melspec=args.melspec):
    options = ["--preset", args.preset] if args.preset else ["--sr", str(rate)]
    return [melspec, "-q", "--jobs", str(jobs), *options, inputs, "-o", out]


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(commands):
    """Seconds from starting every command (at once) to the end of the last one, and the CPU
    seconds they used (every thread): a busy machine stretches the first, much less the second."""
    cpu = children_cpu_seconds()
    start = time.perf_counter()
    processes = [subprocess.Popen(c) for c in commands]
    for p in processes:
        if p.wait() != 0:
            raise SystemExit(f"{' '.join(p.args)} failed with status {p.returncode}")
    return time.perf_counter() - start, children_cpu_seconds() - cpu


LIBC = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400


def link_unnamed(descriptor, target):
    """linkat(/proc/self/fd/N, target, AT_SYMLINK_FOLLOW), as the command names an O_TMPFILE file
    (os.link calls link(2) here, which links the /proc symlink itself)."""
    source = f"/proc/self/fd/{descriptor}".encode()
    if LIBC.linkat(AT_FDCWD, source, AT_FDCWD, target.encode(), AT_SYMLINK_FOLLOW) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), target)


def write_outputs_alone(listing, root):
    """Creates the files of listing ([(relative path, size)]) under root as the command does."""
    for relative, size in listing:
        target = os.path.join(root, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            descriptor = os.open(os.path.dirname(target), os.O_WRONLY | os.O_TMPFILE, 0o666)
        except OSError:
            descriptor = None
        if descriptor is not None:
            os.write(descriptor, bytes(size))
            link_unnamed(descriptor, target)
            os.close(descriptor)
            continue
        temporary = os.path.join(os.path.dirname(target), "." + os.path.basename(target) + ".part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(descriptor, bytes(size))
        os.close(descriptor)
        os.rename(temporary, target)


def files_alone(shares, root):
    """Seconds for len(shares) processes, forked before the clock starts, to write their shares
    at once (each share: a listing for write_outputs_alone) into root (a new directory)."""
    children = []
    for share in shares:
        go_read, go_write = os.pipe()
        done_read, done_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:  # a child never returns into the parent's code, whatever happens
                os.read(go_read, 1)
                write_outputs_alone(share, root)
                status = 0
            finally:
                os.write(done_write, b"x")
                os._exit(status)
        children.append((pid, go_write, done_read))
    start = time.perf_counter()
    for _, go, _ in children:
        os.write(go, b"x")
    for _, _, done in children:
        os.read(done, 1)
    seconds = time.perf_counter() - start
    for pid, go, done in children:
        _, status = os.waitpid(pid, 0)
        os.close(go)
        os.close(done)
        if status != 0:
            raise SystemExit("a files-alone writer failed (its traceback is above)")
    return seconds


with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
    corpus = os.path.join(tmp, "corpus")
    audio_seconds = write_corpus(corpus)
    # Every run writes into a directory of its own, and nothing is deleted until the end: ext4
    # does not reuse an inode deleted in the last minute, and skipping thousands of them made
    # each file creation scan the inode table (perf: half of the command's time in
    # __ext4_new_inode when each run deleted the previous run's outputs first), a cost a user's
    # run into a fresh directory does not pay.
    runs = iter(range(1 << 30))

    def fresh(name):
        return os.path.join(tmp, f"run{next(runs)}", name)

    job_values = [int(j) for j in args.jobs.split(",")]
    cases = {f"--jobs {j}": (lambda j=j: [command(j, corpus, fresh("out"))]) for j in job_values}
    if args.baseline:
        for j in job_values:
            cases[f"baseline --jobs {j}"] = (
                lambda j=j: [command(j, corpus, fresh("out"), melspec=args.baseline)])
    # the command's fixed cost (start, options, plan, decoders, exit): a run on one clip
    first_clip = os.path.join(corpus, "a", sorted(os.listdir(os.path.join(corpus, "a")))[0])
    cases["one clip"] = lambda: [command(1, first_clip, fresh("out"))]
    if not args.no_ceiling:
        cases["two processes"] = lambda: [command(1, os.path.join(corpus, "a"), fresh("out_a")),
                                          command(1, os.path.join(corpus, "b"), fresh("out_b"))]
    for commands in cases.values():  # warm-up: page cache, dynamic loader
        timed(commands())
    times = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    last_out = None
    for _ in range(args.repeats):
        for name, commands in cases.items():
            run = commands()
            wall, used = timed(run)
            times[name].append(wall)
            cpu[name].append(used)
            if name == "--jobs 1" or last_out is None:
                last_out = run[0][-1]
    filesystem = subprocess.run(["stat", "-f", "-c", "%T", tmp], capture_output=True,
                                text=True).stdout.strip()
    print(f"{args.clips} clips, {audio_seconds:.0f} s of audio, {args.repeats} interleaved "
          f"repeats, cores available: {len(os.sched_getaffinity(0))}, files in {tmp} "
          f"({filesystem})")
    for name, values in times.items():
        median, best = statistics.median(values), min(values)
        if name == "one clip":
            print(f"{name:>17}: median {median * 1e3:.2f} ms (best {best * 1e3:.2f})")
            continue
        print(f"{name:>17}: median {median:.3f} s (best {best:.3f}, worst {max(values):.3f}), "
              f"{args.clips / median:.1f} files/s, {audio_seconds / median:.0f} audio-seconds/s, "
              f"CPU {statistics.median(cpu[name]):.3f} s")
    if not args.no_files_alone:
        # the outputs the last run left, as (path under out, size), split by half of the corpus
        listing = []
        for directory, _, names in os.walk(last_out):
            for name in sorted(names):
                path = os.path.join(directory, name)
                listing.append((os.path.relpath(path, last_out), os.path.getsize(path)))
        listing.sort()
        halves_listing = [[f for f in listing if f[0].startswith("a" + os.sep)],
                          [f for f in listing if not f[0].startswith("a" + os.sep)]]
        alone = {"one process": [], "two processes": []}
        for _ in range(args.repeats):
            alone["one process"].append(files_alone([listing], fresh("alone")))
            alone["two processes"].append(files_alone(halves_listing, fresh("alone")))
        for name, values in alone.items():
            print(f"{'files alone, ' + name:>28}: median {statistics.median(values):.3f} s "
                  f"(best {min(values):.3f}) for {len(listing)} outputs "
                  f"({sum(size for _, size in listing) / 1e6:.1f} MB)")
        print(f"speed-up of the files alone, two processes over one: "
              f"{statistics.median(alone['one process']) / statistics.median(alone['two processes']):.2f}x median")
    if "--jobs 1" in times and args.clips > 1:
        one = times["--jobs 1"]
        # What no split of the files can share: one clip's run less that clip's share of the
        # work. A perfect split of the rest over N workers is the most --jobs N can give (the
        # "two processes" line then shows what the machine itself takes from that).
        one_clip = statistics.median(times["one clip"])
        fixed = one_clip - (statistics.median(one) - one_clip) / (args.clips - 1)
        print(f"fixed cost of a run (the one-clip run less that clip's work): "
              f"{fixed * 1e3:.2f} ms of --jobs 1's {statistics.median(one) * 1e3:.2f} ms")
        for j in job_values:
            if j > 1:
                perfect = fixed + (statistics.median(one) - fixed) / j
                print(f"a perfect split of the rest over {j} workers: at most "
                      f"{statistics.median(one) / perfect:.2f}x --jobs 1")
        for name, values in times.items():
            if name not in ("--jobs 1", "one clip") and not name.startswith("baseline"):
                print(f"speed-up {name} over --jobs 1: "
                      f"{statistics.median(one) / statistics.median(values):.2f}x median, "
                      f"{min(one) / min(values):.2f}x best; CPU time "
                      f"{statistics.median(cpu[name]) / statistics.median(cpu['--jobs 1']):.2f}x"
                      " --jobs 1's")
    for j in job_values if args.baseline else []:
        this, baseline = f"--jobs {j}", f"baseline --jobs {j}"
        cpu_ratio = statistics.median(cpu[this]) / statistics.median(cpu[baseline])
        print(f"speed-up of this build over the baseline, --jobs {j}: "
              f"{statistics.median(times[baseline]) / statistics.median(times[this]):.2f}x "
              f"median, {min(times[baseline]) / min(times[this]):.2f}x best; CPU time "
              f"{cpu_ratio:.2f}x the baseline's")
