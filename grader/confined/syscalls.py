"""The runner's system-call deny-list (Linux seccomp): kernel objects that namespaces do not
cover, and calls that would undo the runner's confinement, fail with EPERM in learner code.

A deny-list, not an allowlist: Python, torch and learner code use hundreds of calls, and none
of these. Built with `pyseccomp` over the system's libseccomp, which also refuses any call
made through another architecture's entry (32-bit calls on x86_64) and x32 calls. Loaded last
in the runner's confinement, after its mounts, namespaces and uid switch, so setup may use
what learner code may not. Linux only; elsewhere there is no filter and the report says so.
"""

from __future__ import annotations

import errno
import platform

DENIED = (
    # kernel objects that no namespace separates: keyrings, BPF, perf, io_uring, userfaultfd
    *("keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd"),
    *("io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init"),
    # undoing the confinement: mounts, namespaces, roots, another process's memory
    *("mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen"),
    *("fsconfig", "fsmount", "fspick", "mount_setattr", "unshare", "setns"),
    *("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"),
    *("name_to_handle_at", "open_by_handle_at"),
    # the machine's: modules, kexec, reboot, swap, accounting, clocks, names, raw I/O
    *("init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load"),
    *("reboot", "swapon", "swapoff", "acct", "syslog", "quotactl", "quotactl_fd", "vhangup"),
    *("settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname"),
    *("setdomainname", "iopl", "ioperm", "uselib", "lookup_dcookie", "nfsservctl"),
)
# clone() with any of these flags makes a namespace (unshare's twin); clone3 hides its flags
# in memory a filter cannot read, so it fails with ENOSYS and the C library falls back to clone.
CLONE_NEW = (0x00020000, 0x02000000, 0x04000000, 0x08000000)  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC
CLONE_NEW += (0x10000000, 0x20000000, 0x40000000)  # NEWUSER, NEWPID, NEWNET
CLONE_FLAGS_FIRST = ("x86_64", "aarch64")  # where clone's flags are its first argument
PR_SET_PDEATHSIG = 1  # the runner must die with its supervisor: learner code may not undo it
DESCRIBED = "seccomp: {n} system calls fail with EPERM (keyrings, bpf, perf, io_uring, mounts, "
DESCRIBED += "namespaces, ptrace, modules, kexec...)"


def install() -> str:
    """Load the deny-list into this process (and all it starts from now on); returns the
    filter in words. Raises ImportError or OSError where it cannot be had."""
    import pyseccomp as seccomp  # over libseccomp.so.2; preloaded by the zygote

    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    count = 0
    for name in DENIED:
        try:
            rules.add_rule(deny, name)
            count += 1
        except OSError:  # a call this libseccomp does not know: nothing to deny
            continue
    if platform.machine() in CLONE_FLAGS_FIRST:
        for flag in CLONE_NEW:
            rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.add_rule(deny, "prctl", seccomp.Arg(0, seccomp.EQ, PR_SET_PDEATHSIG))
    rules.load()
    return DESCRIBED.format(n=count)
