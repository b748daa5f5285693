//! Why an AF_XDP device could not be set up, in words that say what to
//! do.

use core::fmt;

use ethox::nic::sys::{self, IfName};

use crate::XdpMode;
use crate::sys::AttachError;

/// The capabilities an AF_XDP device needs, for error messages.
const PRIVILEGES: &str = "run as root, or give the binary CAP_NET_RAW (the socket), CAP_BPF \
     and CAP_NET_ADMIN (the program; CAP_SYS_ADMIN before Linux 5.8): \
     `sudo setcap cap_net_raw,cap_net_admin,cap_bpf+ep <binary>`";

/// Why an [`XdpDevice`](crate::XdpDevice) could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A failure shared with ethox's own system NICs: an invalid
    /// interface name, no such interface in this network namespace, or
    /// another failed system call (with its `errno`).
    Sys(sys::Error),
    /// The UMEM's shape is not one the device takes: what is wrong.
    BadConfiguration(&'static str),
    /// The interface's MTU needs more room than a UMEM frame has for a
    /// received frame (the frame size less the kernel's 256 bytes of
    /// headroom).
    MtuTooLarge {
        /// The interface's IP MTU.
        mtu: usize,
        /// The UMEM frame size.
        frame_size: u32,
        /// The largest MTU that fits.
        max_mtu: usize,
    },
    /// The kernel has no AF_XDP sockets (`CONFIG_XDP_SOCKETS`) or no
    /// XSKMAP for them.
    NoAfXdp,
    /// The process lacks a capability for `op`.
    PermissionDenied {
        /// What was refused.
        op: &'static str,
    },
    /// The kernel's verifier refused the XDP program.
    Verifier {
        /// The `errno` of `BPF_PROG_LOAD`.
        errno: i32,
        /// The verifier's log, which says which instruction and why.
        log: String,
    },
    /// The interface's driver has no native XDP: use
    /// [`XdpMode::Generic`].
    NoNativeXdp(IfName),
    /// Native XDP refused the link's MTU (`ERANGE`): a veth takes no
    /// native XDP program while its peer's MTU is above about 3498.
    NativeMtuTooLarge {
        /// The interface.
        name: IfName,
        /// Its IP MTU.
        mtu: usize,
    },
    /// The interface already has an XDP program attached (another
    /// device, or `ip link set dev <name> xdp ...`).
    XdpAttached(IfName),
    /// Another AF_XDP socket is bound to the queue (also for a moment
    /// after its owner exited; the bind was retried for 250 ms).
    QueueBusy {
        /// The interface.
        name: IfName,
        /// The queue.
        queue: u32,
    },
    /// The interface has no such queue.
    NoSuchQueue {
        /// The interface.
        name: IfName,
        /// The queue asked for.
        queue: u32,
    },
}

impl From<sys::Error> for Error {
    fn from(err: sys::Error) -> Error {
        Error::Sys(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys(err) => fmt::Display::fmt(err, f),
            Error::BadConfiguration(what) => write!(f, "bad AF_XDP configuration: {what}"),
            Error::MtuTooLarge {
                mtu,
                frame_size,
                max_mtu,
            } => write!(
                f,
                "MTU {mtu} does not fit a {frame_size}-byte UMEM frame (at most MTU {max_mtu} \
                 after the kernel's headroom): use 4096-byte frames or lower the MTU"
            ),
            Error::NoAfXdp => f.write_str(
                "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS): use the AF_PACKET \
                 device (ethox::nic::sys::RawSocket) instead",
            ),
            Error::PermissionDenied { op } => write!(f, "{op}: permission denied: {PRIVILEGES}"),
            Error::Verifier { errno, log } => write!(
                f,
                "the kernel's verifier refused the XDP program (errno {errno}); its log:\n{log}"
            ),
            Error::NoNativeXdp(name) => write!(
                f,
                "the driver of `{name}` has no native XDP: use generic mode (XdpMode::Generic)"
            ),
            Error::NativeMtuTooLarge { name, mtu } => write!(
                f,
                "native XDP on `{name}` (MTU {mtu}) refuses the link's MTU (ERANGE; a veth \
                 checks its peer's MTU, at most about 3498): lower the MTU on both ends \
                 (`ip link set dev <name> mtu 1500`) or use generic mode"
            ),
            Error::XdpAttached(name) => write!(
                f,
                "`{name}` already has an XDP program: stop its owner or remove it \
                 (`ip link set dev {name} xdp off`)"
            ),
            Error::QueueBusy { name, queue } => write!(
                f,
                "queue {queue} of `{name}` is bound by another AF_XDP socket (if its owner just \
                 exited, retry in a moment)"
            ),
            Error::NoSuchQueue { name, queue } => write!(
                f,
                "`{name}` has no receive queue {queue} (a veth has queue 0 unless made with \
                 more: `ip link add ... numrxqueues N`)"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The error for set-up step `op` failing with `errno`, on interface
    /// `name`, queue `queue`, in mode `mode`.
    pub(crate) fn setup(
        op: &'static str,
        errno: i32,
        name: IfName,
        queue: u32,
        mode: XdpMode,
    ) -> Error {
        let native = mode == XdpMode::Native;
        match (op, errno) {
            (_, libc::EPERM | libc::EACCES) => Error::PermissionDenied { op },
            ("socket(AF_XDP)", libc::EAFNOSUPPORT) => Error::NoAfXdp,
            ("BPF_MAP_CREATE", libc::EINVAL) => Error::NoAfXdp,
            ("bind", libc::EBUSY) => Error::QueueBusy { name, queue },
            ("bind", libc::EINVAL) => Error::NoSuchQueue { name, queue },
            (_, libc::ENODEV | libc::ENXIO) => Error::Sys(sys::Error::NoSuchInterface(name)),
            ("BPF_LINK_CREATE", libc::EBUSY | libc::EEXIST) => Error::XdpAttached(name),
            ("BPF_LINK_CREATE", libc::EOPNOTSUPP) if native => Error::NoNativeXdp(name),
            ("BPF_LINK_CREATE", libc::EINVAL) => Error::Sys(sys::Error::Io {
                op: "BPF_LINK_CREATE (XDP links need Linux 5.9 or later)",
                errno,
            }),
            ("XDP_UMEM_REG", libc::ENOBUFS | libc::ENOMEM) => Error::Sys(sys::Error::Io {
                op: "XDP_UMEM_REG (the kernel pins the UMEM: raise the locked-memory limit, \
                     `ulimit -l`, or give CAP_IPC_LOCK)",
                errno,
            }),
            _ => Error::Sys(sys::Error::Io { op, errno }),
        }
    }

    /// The error for attaching the program.
    pub(crate) fn attach(
        err: AttachError,
        name: IfName,
        queue: u32,
        mode: XdpMode,
        mtu: usize,
    ) -> Error {
        match err {
            AttachError::Verifier { errno, log } => Error::Verifier { errno, log },
            AttachError::Step("BPF_LINK_CREATE", libc::ERANGE) => {
                Error::NativeMtuTooLarge { name, mtu }
            }
            AttachError::Step(op, errno) => Error::setup(op, errno, name, queue, mode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> IfName {
        IfName::new("veth0").unwrap()
    }

    fn setup(op: &'static str, errno: i32) -> Error {
        Error::setup(op, errno, name(), 3, XdpMode::Native)
    }

    #[test]
    fn errnos_become_errors_that_say_what_to_do() {
        let queue = 3;
        for (op, errno, expected) in [
            ("socket(AF_XDP)", libc::EAFNOSUPPORT, Error::NoAfXdp),
            ("BPF_MAP_CREATE", libc::EINVAL, Error::NoAfXdp),
            (
                "BPF_PROG_LOAD",
                libc::EPERM,
                Error::PermissionDenied {
                    op: "BPF_PROG_LOAD",
                },
            ),
            (
                "bind",
                libc::EBUSY,
                Error::QueueBusy {
                    name: name(),
                    queue,
                },
            ),
            (
                "bind",
                libc::EINVAL,
                Error::NoSuchQueue {
                    name: name(),
                    queue,
                },
            ),
            ("BPF_LINK_CREATE", libc::EBUSY, Error::XdpAttached(name())),
            ("BPF_LINK_CREATE", libc::EEXIST, Error::XdpAttached(name())),
            (
                "BPF_LINK_CREATE",
                libc::EOPNOTSUPP,
                Error::NoNativeXdp(name()),
            ),
        ] {
            assert_eq!(setup(op, errno), expected, "{op} {errno}");
        }
        for (op, errno, says) in [
            ("BPF_PROG_LOAD", libc::EPERM, "CAP_BPF and CAP_NET_ADMIN"),
            ("bind", libc::EINVAL, "no receive queue 3"),
            (
                "BPF_LINK_CREATE",
                libc::EEXIST,
                "ip link set dev veth0 xdp off",
            ),
            ("BPF_LINK_CREATE", libc::EOPNOTSUPP, "generic mode"),
            ("XDP_UMEM_REG", libc::ENOBUFS, "ulimit -l"),
            ("mmap of the RX ring", libc::ENOMEM, "mmap of the RX ring: "),
        ] {
            let text = setup(op, errno).to_string();
            assert!(text.contains(says), "{op} {errno}: {text}");
        }
        // In generic mode EOPNOTSUPP is not about native XDP.
        let generic = Error::setup(
            "BPF_LINK_CREATE",
            libc::EOPNOTSUPP,
            name(),
            0,
            XdpMode::Generic,
        );
        assert!(matches!(generic, Error::Sys(sys::Error::Io { .. })));
        let mtu = Error::attach(
            AttachError::Step("BPF_LINK_CREATE", libc::ERANGE),
            name(),
            0,
            XdpMode::Native,
            4000,
        );
        assert_eq!(
            mtu,
            Error::NativeMtuTooLarge {
                name: name(),
                mtu: 4000
            }
        );
        assert!(mtu.to_string().contains("generic mode"));
    }

    #[test]
    fn verifier_errors_carry_the_log() {
        let err = Error::attach(
            AttachError::Verifier {
                errno: libc::EACCES,
                log: "0: (95) exit\nR0 !read_ok".into(),
            },
            name(),
            0,
            XdpMode::Generic,
            1500,
        );
        let text = err.to_string();
        assert!(
            text.contains("verifier") && text.contains("R0 !read_ok"),
            "{text}"
        );
    }

    #[test]
    fn mtu_errors_name_the_limit_and_the_cure() {
        let text = Error::MtuTooLarge {
            mtu: 3000,
            frame_size: 2048,
            max_mtu: 1778,
        }
        .to_string();
        assert!(text.contains("1778") && text.contains("4096"), "{text}");
    }
}
