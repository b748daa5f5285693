//! Why an io_uring NIC could not be set up: the system NIC errors of
//! ethox (a missing interface, missing privileges) plus the ways io_uring
//! itself can be missing, each with what to do about it.

use core::fmt;

use ethox::nic::sys;

/// Why an io_uring NIC could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// Opening the TAP or the `AF_PACKET` socket failed, or another
    /// system call of the set-up ([`sys::Error::Io`] names it).
    Sys(sys::Error),
    /// The kernel has no io_uring (`io_uring_setup` gave `ENOSYS`: built
    /// without `CONFIG_IO_URING`, or a sandbox such as a container's
    /// seccomp profile hides the call).
    Unavailable,
    /// io_uring is disabled for this process (`io_uring_setup` gave
    /// `EPERM`): the sysctl `kernel.io_uring_disabled` is 2, or 1 and the
    /// process is neither privileged nor in `kernel.io_uring_group`; or a
    /// sandbox refuses the call.
    Disabled {
        /// The value of `kernel.io_uring_disabled`, if it could be read.
        sysctl: Option<u8>,
    },
    /// The kernel's io_uring lacks something this device needs.
    Unsupported {
        /// What is missing.
        what: &'static str,
    },
    /// The configuration cannot be built: see [`Config`](crate::Config)
    /// for the limits.
    BadConfiguration {
        /// What is wrong with it.
        what: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys(err) => fmt::Display::fmt(err, f),
            Error::Unavailable => f.write_str(
                "io_uring is not available: io_uring_setup gave ENOSYS (a kernel built without \
                 CONFIG_IO_URING, or a sandbox that hides the call); use ethox's TapDevice or \
                 RawSocket instead",
            ),
            Error::Disabled { sysctl } => {
                f.write_str("io_uring is disabled for this process: io_uring_setup gave EPERM")?;
                match sysctl {
                    Some(2) => f.write_str(
                        " because kernel.io_uring_disabled is 2; as root: \
                         `sysctl kernel.io_uring_disabled=0`",
                    ),
                    Some(1) => f.write_str(
                        " because kernel.io_uring_disabled is 1 and this process is neither \
                         privileged nor in kernel.io_uring_group; run as root, add the user to \
                         that group, or `sysctl kernel.io_uring_disabled=0`",
                    ),
                    _ => f.write_str(
                        " (kernel.io_uring_disabled allows it: a sandbox such as a seccomp \
                         profile refuses the call)",
                    ),
                }
            }
            Error::Unsupported { what } => write!(
                f,
                "this kernel's io_uring lacks {what}; Linux 5.19 or later is needed \
                 (6.0 for multishot receive)"
            ),
            Error::BadConfiguration { what } => write!(f, "bad io_uring NIC configuration: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sys(err) => Some(err),
            _ => None,
        }
    }
}

impl From<sys::Error> for Error {
    fn from(err: sys::Error) -> Self {
        Error::Sys(err)
    }
}

impl Error {
    /// The error for `io_uring_setup` failing with `errno`.
    pub(crate) fn from_setup(errno: i32) -> Error {
        match errno {
            libc::ENOSYS => Error::Unavailable,
            libc::EPERM => Error::Disabled {
                sysctl: disabled_sysctl(),
            },
            errno => Error::io("io_uring_setup", errno),
        }
    }

    /// The error for the set-up call `op` failing with `errno`.
    pub(crate) fn io(op: &'static str, errno: i32) -> Error {
        Error::Sys(sys::Error::Io { op, errno })
    }
}

/// `kernel.io_uring_disabled`, if this kernel has it and it can be read.
fn disabled_sysctl() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_io_uring_says_what_to_do() {
        let text = Error::from_setup(libc::ENOSYS).to_string();
        assert!(text.contains("not available"), "{text}");
        assert!(text.contains("ENOSYS"), "{text}");
        for sysctl in [Some(2), Some(1), None] {
            let text = Error::Disabled { sysctl }.to_string();
            assert!(text.contains("disabled"), "{text}");
            assert!(text.contains("EPERM"), "{text}");
        }
        let text = Error::Disabled { sysctl: Some(2) }.to_string();
        assert!(text.contains("sysctl kernel.io_uring_disabled=0"), "{text}");
        let other = Error::from_setup(libc::ENOMEM);
        assert_eq!(
            other,
            Error::Sys(sys::Error::Io {
                op: "io_uring_setup",
                errno: libc::ENOMEM
            })
        );
        assert!(other.to_string().starts_with("io_uring_setup: "));
    }
}
