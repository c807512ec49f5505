#!/usr/bin/python3
"""Command wrapper used by tests/Kernel/record.sh while it runs a scenario's lab.sh and traffic.sh.

record.sh puts a directory of symbolic links to this file (ip, sysctl, nft, iptables*, tc, bridge, ...)
first on PATH, so that the lab file stays plain bash with short namespace names (host, client, c1)
while every namespace really created is prefixed ("pfrec-<scenario>-client"):

  * ip:      the namespace name after -n/-netns/--netns, after `netns add|del|delete|exec|set|attach|
             pids|identify`, and after the word `netns` anywhere in `ip link ...` (`link add ... peer
             name X netns NS`, `link set DEV netns NS`) gets the prefix. `ip netns exec NS CMD` runs
             CMD under `timeout` (PFREC_EXEC_TIMEOUT seconds, default 300), so a server started with
             `&` cannot outlive the recording. `-all` and `-batch` are refused.
  * tc, bridge: -n/-netns NS is rewritten the same way.
  * sysctl:  only net.* keys (the per-namespace ones); anything else is refused.
  * modprobe: runs when the kernel has loadable modules (the recording VM, tests/Kernel/vm/), is
             ignored otherwise (this machine's kernel has everything it has built in).
  * every wrapped command refuses to run unless the calling process is inside one of the scenario's
    namespaces (its network namespace inode is that of a namespace listed in PFREC_NSLIST): nothing
    is ever changed in the machine's own namespace, even by a lab line that forgot `ip netns exec`.
    `ip netns add` appends the namespace it creates to PFREC_NSLIST (record.sh deletes them all).
Environment: PFREC_PREFIX ("pfrec-<scenario>-"), PFREC_WRAPDIR (this wrapper directory),
PFREC_NSLIST (file listing the scenario's namespaces), PFREC_EXEC_TIMEOUT.
"""
import os
import sys

PREFIX = os.environ.get("PFREC_PREFIX", "")
WRAPDIR = os.environ.get("PFREC_WRAPDIR", "")
NAME = os.path.basename(sys.argv[0])


def die(msg):
    sys.stderr.write(f"pfrec wrapper ({NAME}): {msg}\n")
    sys.exit(2)


def real(name):
    for d in os.environ.get("PATH", "").split(":"):
        if not d or os.path.realpath(d) == os.path.realpath(WRAPDIR or "/nonexistent"):
            continue
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(__file__):
            return p
    die(f"{name} not found on PATH")


def guard():
    # pfrec-<scenario>- by default; record.sh's PFREC_NS_PREFIX may name another pf*- prefix
    if not (PREFIX.startswith("pf") and "-" in PREFIX[2:-1] and PREFIX.endswith("-") and PREFIX[2:PREFIX.index("-")].isalnum()):
        die("PFREC_PREFIX is not set to a pfrec- (or other pf*-) prefix")
    mine = os.stat("/proc/self/ns/net").st_ino
    allowed = set()
    names = []
    if os.environ.get("PFREC_NSLIST"):
        with open(os.environ["PFREC_NSLIST"]) as f:
            names = [n.strip() for n in f if n.strip().startswith(PREFIX)]
    for n in names:
        try:
            allowed.add(os.stat(os.path.join("/run/netns", n)).st_ino)
        except OSError:
            pass
    if mine not in allowed:
        die("refusing to run outside the scenario's namespaces (a lab line without `ip netns exec`?)")


def ns(name):
    if name.isdigit() or name.startswith(PREFIX):
        return name
    return PREFIX + name


def exec_timeout():
    return ["timeout", "-k", "3", os.environ.get("PFREC_EXEC_TIMEOUT", "300")]


def wrap_ip(args):
    out = []
    i = 0
    while i < len(args) and args[i].startswith("-"):
        a = args[i]
        if a in ("-n", "-netns", "--netns"):
            if i + 1 >= len(args):
                die("missing namespace after -n")
            out += [a, ns(args[i + 1])]
            i += 2
            continue
        if a in ("-a", "-all", "--all"):
            die("`ip -all` is refused (it would act on every namespace of the machine)")
        if a in ("-b", "-batch", "--batch", "-force"):
            die("`ip -batch` is refused (its commands cannot be rewritten)")
        if a in ("-rc", "-rcvbuf", "-l", "-loops", "-f", "-family"):
            out += [a, args[i + 1]]
            i += 2
            continue
        out.append(a)
        i += 1
    if i >= len(args):
        return out
    obj = args[i]
    rest = args[i + 1:]
    out.append(obj)
    if "netns".startswith(obj) and len(obj) >= 2 and obj.startswith("ne"):
        if not rest:
            return out
        verb = rest[0]
        out.append(verb)
        if verb in ("add", "a", "delete", "del", "d", "attach", "pids", "set", "s", "monitor"):
            if len(rest) > 1:
                out.append(ns(rest[1]))
                if verb in ("add", "a", "attach") and os.environ.get("PFREC_NSLIST"):
                    with open(os.environ["PFREC_NSLIST"], "a") as f:
                        f.write(ns(rest[1]) + "\n")
                out += rest[2:]
            return out
        if verb in ("exec", "e"):
            if len(rest) < 3:
                die("ip netns exec needs a namespace and a command")
            return out + [ns(rest[1])] + exec_timeout() + rest[2:]
        if verb == "identify":
            return out + rest[1:]
        return out + rest[1:]
    if obj in ("link", "l", "li", "lin"):
        j = 0
        while j < len(rest):
            out.append(rest[j])
            if rest[j] == "netns" and j + 1 < len(rest):
                out.append(ns(rest[j + 1]))
                j += 2
                continue
            j += 1
        return out
    return out + rest


def wrap_n(args):
    out = []
    i = 0
    while i < len(args):
        if args[i] in ("-n", "-netns", "--netns") and i + 1 < len(args):
            out += [args[i], ns(args[i + 1])]
            i += 2
            continue
        if args[i] in ("-b", "-batch", "-all"):
            die(f"{args[i]} is refused")
        out.append(args[i])
        i += 1
    return out


def wrap_sysctl(args):
    for a in args:
        if a.startswith("-"):
            if a in ("-w", "-q", "-e", "-n", "-N"):
                continue
            die(f"sysctl option {a} is refused")
        key = a.split("=", 1)[0].replace("/", ".")
        if not key.startswith("net."):
            die(f"sysctl {key} is refused: only net.* keys are per network namespace")
    return args


def root_mount(argv):
    """`ip netns add/del` must run in record.sh's own mount namespace: inside `ip netns exec` the mounts
    are private (slave), so the namespace's bind mount on /run/netns/NAME would be invisible outside."""
    mnt = os.environ.get("PFREC_MNTNS")
    if mnt and os.path.exists(mnt) and os.stat(mnt).st_ino != os.stat("/proc/self/ns/mnt").st_ino:
        return ["nsenter", f"--mount={mnt}", "--"] + argv
    return argv


def main():
    args = sys.argv[1:]
    if NAME == "modprobe" and os.path.exists(f"/lib/modules/{os.uname().release}/modules.dep"):
        os.execv(real(NAME), [NAME] + args)
    if NAME == "modprobe":
        sys.stderr.write(f"pfrec: modprobe {' '.join(args)} ignored (no loadable modules on this kernel)\n")
        return 0
    guard()
    if NAME == "ip":
        args = wrap_ip(args)
    elif NAME in ("tc", "bridge"):
        args = wrap_n(args)
    elif NAME == "sysctl":
        args = wrap_sysctl(args)
    exe = real(NAME)
    argv = [exe] + args
    if NAME == "ip":
        words = [a for a in args if not a.startswith("-")]
        if len(words) >= 2 and words[0] in ("netns", "netn", "net", "ne") and \
                words[1] in ("add", "a", "delete", "del", "d", "attach"):
            argv = root_mount(argv)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main())
