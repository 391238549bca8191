"""The melspec command's failure matrix: for each case the exit status, what stderr says and
the exact set of files left behind. Usage: cli_failure_matrix.py MELSPEC (exit 77: no numpy)."""
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import wave

try:
    import numpy as np
except ImportError:
    print("numpy missing: skipped")
    sys.exit(77)

MELSPEC = sys.argv[1]
failures = []


def check(name, condition, detail=""):
    print(f"{'ok' if condition else 'FAIL':4} {name}" + ("" if condition else f": {detail}"))
    if not condition:
        failures.append(name)


def write_wav(path, seconds=1.0, rate=16000, seed=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    y = 0.3 * np.sin(2 * np.pi * (300 + 50 * seed) * t) + 0.05 * rng.standard_normal(t.size)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((y * 32767).astype("<i2").tobytes())


def run(*args, stdin=None, preexec=None):
    r = subprocess.run([MELSPEC, *args], input=stdin, capture_output=True, preexec_fn=preexec)
    return r.returncode, r.stdout, r.stderr.decode()


def same_across_processes(got, want):
    """Two runs of the command compute the same bits, except in FFTW builds, where each process
    plans its FFTs by timing them (tests/cli/CMakeLists.txt)."""
    if got.shape != want.shape:
        return False
    if os.environ.get("MELSPEC_TEST_PLANS_VARY_ACROSS_PROCESSES"):
        return bool(np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want)))
    return bool(np.array_equal(got, want))


def files_under(root):
    found = set()
    for directory, _, names in os.walk(root):
        for name in names:
            found.add(os.path.relpath(os.path.join(directory, name), root))
    return found


with tempfile.TemporaryDirectory() as tmp:
    def p(*parts):
        return os.path.join(tmp, *parts)

    # Two inputs with the same name from different directories: refused before any work.
    write_wav(p("coll", "a", "x.wav"), seed=1)
    write_wav(p("coll", "b", "x.wav"), seed=2)
    status, _, err = run(p("coll", "a", "x.wav"), p("coll", "b", "x.wav"), "-o", p("out1"))
    check("collision across inputs", status == 2 and "would both be written" in err
          and not os.path.exists(p("out1")), f"{status} {err}")

    # The same stem twice in one tree: both keep their extension.
    write_wav(p("stems", "y.wav"), seed=3)
    subprocess.run(["sox", p("stems", "y.wav"), p("stems", "y.flac")], check=False)
    if os.path.exists(p("stems", "y.flac")):
        status, _, err = run("-q", p("stems"), "-o", p("out2"))
        check("shared stems keep their extension",
              status == 0 and files_under(p("out2")) == {"y.wav.npy", "y.flac.npy"},
              f"{status} {files_under(p('out2'))} {err}")

    # Unknown extensions, -o - without a format, /dev: errors, nothing created.
    for target, extra, words in [("pic.jpg", [], "unknown output format"),
                                 ("x.npz", [], "unknown output format"),
                                 ("-", [], "needs --format"),
                                 ("/dev/stdout.npy", [], "/dev holds devices")]:
        path = target if target.startswith("/") or target == "-" else p(target)
        status, _, err = run(p("stems", "y.wav"), "-o", path, *extra)
        check(f"-o {target} refused", status == 2 and words in err and
              (target in ("-",) or not os.path.exists(path)), f"{status} {err}")

    # An output directory that cannot be made (a file is in the way): refused before any work.
    open(p("blocker"), "w").close()
    status, _, err = run(p("coll", "a"), "-o", p("blocker", "sub"))
    check("output under a file refused", status == 2 and "blocker" in err, err)
    # A missing output directory is made.
    status, _, err = run("-q", p("coll", "a"), "-o", p("new", "deep"))
    check("missing output directory made", status == 0 and
          files_under(p("new")) == {os.path.join("deep", "x.npy")}, err)
    # Read-only (only meaningful when not root: root writes anywhere).
    if os.geteuid() != 0:
        os.makedirs(p("ro"))
        os.chmod(p("ro"), 0o555)
        status, _, err = run(p("coll", "a"), "-o", p("ro"))
        check("read-only output directory refused", status == 2 and "cannot write" in err
              and files_under(p("ro")) == set(), err)

    # Existing outputs are never replaced without being asked.
    status, _, err = run(p("coll", "a"), "-o", p("new", "deep"))
    check("existing output refused", status == 2 and "exists" in err, err)
    # --overwrite replaces them, whole, and leaves no temporary beside them.
    status, _, err = run("-q", "--overwrite", "--n-mels", "40", p("coll", "a"), "-o",
                         p("new", "deep"))
    check("--overwrite replaces", status == 0 and
          files_under(p("new")) == {os.path.join("deep", "x.npy")} and
          np.load(p("new", "deep", "x.npy")).shape[0] == 40, f"{status} {err}")

    # A write that fails (a file-size limit stands in for a full disk): the failure is reported,
    # nothing partial stays under the final name, no temporary is left.
    write_wav(p("long", "big.wav"), seconds=20.0)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))

    status, _, err = run(p("long", "big.wav"), "--format", "csv", "-o", p("full"), preexec=limit)
    check("write failure reported, nothing partial", status == 1 and "cannot write" in err
          and files_under(p("full")) == set(), f"{status} {err} {files_under(p('full'))}")

    # Damaged inputs among good ones: truncated read with a warning, empty and garbage fail.
    for i in range(3):
        write_wav(p("mixed", f"good{i}.wav"), seed=i)
    data = open(p("mixed", "good0.wav"), "rb").read()
    open(p("mixed", "cut.wav"), "wb").write(data[: len(data) // 2])
    open(p("mixed", "empty.wav"), "wb").close()
    open(p("mixed", "garbage.wav"), "wb").write(bytes(range(256)) * 8)
    status, _, err = run(p("mixed"), "-o", p("out3"), "--failures", p("failed.tsv"))
    listed = {line.split("\t")[0] for line in open(p("failed.tsv")).read().splitlines()}
    check("damaged among good", status == 1 and
          files_under(p("out3")) == {"good0.npy", "good1.npy", "good2.npy", "cut.npy"} and
          listed == {p("mixed", "empty.wav"), p("mixed", "garbage.wav")} and
          "warning: truncated" in err, f"{status} {files_under(p('out3'))} {listed} {err}")
    status, _, err = run("--strict", p("mixed", "cut.wav"), "-o", p("strict.npy"))
    check("--strict refuses the truncated file", status == 1 and "--strict" in err
          and not os.path.exists(p("strict.npy")), err)

    # stdin and stdout give what the file gives.
    run("-q", p("mixed", "good1.wav"), "-o", p("direct.npy"))
    status, out, err = run("-", "-o", "-", "--format", "npy",
                           stdin=open(p("mixed", "good1.wav"), "rb").read())
    open(p("piped.npy"), "wb").write(out)
    check("stdin to stdout", status == 0 and same_across_processes(np.load(p("piped.npy")),
                                                                   np.load(p("direct.npy"))),
          err)

    # Option conflicts and explicit zeros.
    for args, words in [(["--transform", "cqt", "--n-mels", "40"], "--n-mels"),
                        (["--n-bins", "40"], "--n-bins"),
                        (["--db", "--scale", "log"], "give one"),
                        (["--hop-length", "0"], "positive"),
                        (["--top-db", "60"], "decibels only"),
                        (["--sr", "native", "--res-type", "soxr_qq"], "--sr native"),
                        (["--res-type", "polyphase"], "is not one of soxr_hq"),
                        (["--cqt-res-type", "polyphase"], "--transform cqt only"),
                        (["--transform", "cqt", "--cqt-res-type", "kaiser_best"],
                         "is not one of soxr_hq")]:
        status, _, err = run(*args, p("mixed", "good1.wav"))
        check(f"conflict {' '.join(args)}", status == 2 and words in err, err)

    # SIGINT mid-run: status 130, every output present is complete, no temporary left; then
    # --skip-existing finishes the rest without redoing what was done.
    for i in range(40):
        write_wav(p("many", f"c{i:02d}.wav"), seconds=4.0, seed=i)
    proc = subprocess.Popen([MELSPEC, "--jobs", "1", "--batch", "1", p("many"), "-o", p("out4"),
                             "--format", "npy,csv"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline and len(files_under(p("out4"))) < 4:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    err = err.decode()
    left = files_under(p("out4"))
    complete = all(np.load(p("out4", f)).shape[0] == 128 for f in left if f.endswith(".npy"))
    check("SIGINT stops cleanly", proc.returncode == 130 and "interrupted by SIGINT" in err and
          not any(".part" in f for f in left) and complete and 0 < len(left) < 80,
          f"{proc.returncode} {len(left)} {err}")
    done_before = {f for f in left if f.endswith(".npy")}
    # an input whose outputs are all there counts as done; one with npy but no csv is redone
    status, _, err = run("--skip-existing", p("many"), "-o", p("out4"), "--format", "npy,csv")
    check("--skip-existing resumes", status == 0 and len(files_under(p("out4"))) == 80 and
          "skipped" in err, f"{status} {err}")

    # A file someone else makes under an output's name during the run is not replaced: the
    # planning saw none, and only --overwrite replaces. c39 is the last input (equal sizes go in
    # input order); its name is taken as soon as the first output shows the run has begun.
    proc = subprocess.Popen([MELSPEC, "--jobs", "1", "--batch", "1", p("many"), "-o",
                             p("out5")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline and not files_under(p("out5")):
        time.sleep(0.001)
    with open(p("out5", "c39.npy"), "w") as theirs:
        theirs.write("not ours")
    _, err = proc.communicate()
    err = err.decode()
    check("a name taken during the run is kept", proc.returncode == 1 and
          "made by someone else" in err and open(p("out5", "c39.npy")).read() == "not ours" and
          len(files_under(p("out5"))) == 40, f"{proc.returncode} {err}")

sys.exit(1 if failures else 0)
