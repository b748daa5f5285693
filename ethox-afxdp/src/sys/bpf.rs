//! The `bpf(2)` system call: the XSKMAP, the redirect program, and the
//! link that attaches it to the interface.
//!
//! `union bpf_attr` (uapi `linux/bpf.h`) has one struct per command. The
//! kernel copies the first `size` bytes we pass, treats the rest as zero,
//! and refuses (`E2BIG`) a prefix with non-zero bytes past the fields it
//! knows. Each `#[repr(C)]` struct below is the prefix one command
//! needs, fields named and ordered as in the uapi header (`__aligned_u64`
//! is a `u64` at an 8-byte offset); the `size_of` assertions pin the
//! layouts so a stray field cannot shift the ones after it.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::own_fd;
use crate::program::{Insn, redirect_to_xskmap};

// Commands (`enum bpf_cmd`).
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_LINK_CREATE: libc::c_long = 28;

/// `BPF_MAP_TYPE_XSKMAP` (`enum bpf_map_type`): an array of AF_XDP
/// sockets, keyed by a `u32` index, the value a socket's descriptor.
const BPF_MAP_TYPE_XSKMAP: u32 = 17;
/// `BPF_PROG_TYPE_XDP` (`enum bpf_prog_type`).
const BPF_PROG_TYPE_XDP: u32 = 6;
/// `BPF_XDP` (`enum bpf_attach_type`): attach to a network device's XDP
/// hook through a link.
const BPF_XDP: u32 = 37;
/// `BPF_ANY`: create the map element or update it.
const BPF_ANY: u64 = 0;
/// `XDP_FLAGS_SKB_MODE` (uapi `linux/if_link.h`): generic XDP, run by
/// the kernel on socket buffers, for any driver.
pub(crate) const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
/// `XDP_FLAGS_DRV_MODE`: native XDP, run by the driver.
pub(crate) const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

/// The verifier's log on a rejection: 64 KiB holds it for a program this
/// small many times over (the kernel cuts a longer log and says ENOSPC).
const LOG_SIZE: usize = 64 * 1024;
/// `log_level` 1: the verifier's reasoning, instruction by instruction.
const LOG_LEVEL: u32 = 1;

/// Object names: at most 15 bytes and a NUL (`BPF_OBJ_NAME_LEN` is 16),
/// letters, digits, `_` and `.`.
const MAP_NAME: &[u8] = b"ethox_xsks";
const PROGRAM_NAME: &[u8] = b"ethox_redirect";

/// The `BPF_MAP_CREATE` part of `union bpf_attr`.
#[repr(C)]
struct MapCreate {
    /// `__u32 map_type`: one of `enum bpf_map_type`.
    map_type: u32,
    /// `__u32 key_size`: bytes per key (4 for an XSKMAP).
    key_size: u32,
    /// `__u32 value_size`: bytes per value (4: a socket descriptor).
    value_size: u32,
    /// `__u32 max_entries`: the number of slots (queues).
    max_entries: u32,
    /// `__u32 map_flags`: `BPF_F_*` creation flags; none.
    map_flags: u32,
    /// `__u32 inner_map_fd`: for maps of maps only; 0.
    inner_map_fd: u32,
    /// `__u32 numa_node`: read only with `BPF_F_NUMA_NODE`; 0.
    numa_node: u32,
    /// `char map_name[BPF_OBJ_NAME_LEN]`: shown by `bpftool map`.
    map_name: [u8; 16],
}
const _: () = assert!(core::mem::size_of::<MapCreate>() == 44);

/// The `BPF_MAP_*_ELEM` part of `union bpf_attr`.
#[repr(C)]
struct MapElem {
    /// `__u32 map_fd`: the map's descriptor.
    map_fd: u32,
    /// Padding before the next `__aligned_u64`; must be zero.
    _pad: u32,
    /// `__aligned_u64 key`: the address of the key.
    key: u64,
    /// `__aligned_u64 value`: the address of the value.
    value: u64,
    /// `__u64 flags`: `BPF_ANY`, `BPF_NOEXIST` or `BPF_EXIST`.
    flags: u64,
}
const _: () = assert!(core::mem::size_of::<MapElem>() == 32);

/// The `BPF_PROG_LOAD` part of `union bpf_attr`.
#[repr(C)]
struct ProgLoad {
    /// `__u32 prog_type`: one of `enum bpf_prog_type`.
    prog_type: u32,
    /// `__u32 insn_cnt`: instruction slots (a 64-bit load takes two).
    insn_cnt: u32,
    /// `__aligned_u64 insns`: the address of the `struct bpf_insn` array.
    insns: u64,
    /// `__aligned_u64 license`: the address of a NUL-terminated licence
    /// string; "GPL" lets the program call GPL-only helpers.
    license: u64,
    /// `__u32 log_level`: 0 for no log, 1 for the verifier's reasoning.
    log_level: u32,
    /// `__u32 log_size`: bytes the log buffer holds (0 without one).
    log_size: u32,
    /// `__aligned_u64 log_buf`: the address of the log buffer, or 0.
    log_buf: u64,
    /// `__u32 kern_version`: checked for kprobes only; 0.
    kern_version: u32,
    /// `__u32 prog_flags`: `BPF_F_*` load flags; none.
    prog_flags: u32,
    /// `char prog_name[BPF_OBJ_NAME_LEN]`: shown by `bpftool prog` and
    /// `ip link`.
    prog_name: [u8; 16],
    /// `__u32 prog_ifindex`: for programs offloaded to a device; 0.
    prog_ifindex: u32,
    /// `__u32 expected_attach_type`: `BPF_XDP` for an XDP program
    /// attached through a link.
    expected_attach_type: u32,
}
const _: () = assert!(core::mem::size_of::<ProgLoad>() == 72);

/// The `BPF_OBJ_GET_INFO_BY_FD` part of `union bpf_attr`.
#[repr(C)]
struct InfoByFd {
    /// `__u32 bpf_fd`: the object's descriptor.
    bpf_fd: u32,
    /// `__u32 info_len`: bytes of the info buffer; the kernel writes at
    /// most that many and sets the length it wrote.
    info_len: u32,
    /// `__aligned_u64 info`: the address of the info buffer (here the
    /// start of `struct bpf_prog_info`: `__u32 type; __u32 id; ...`).
    info: u64,
}
const _: () = assert!(core::mem::size_of::<InfoByFd>() == 16);

/// The `BPF_*_GET_FD_BY_ID` part of `union bpf_attr`.
#[repr(C)]
struct FdById {
    /// `__u32 prog_id` (in a union with `start_id`, `map_id`, ...): the
    /// object's id.
    id: u32,
    /// `__u32 next_id`: output of the `GET_NEXT_ID` commands; 0.
    next_id: u32,
    /// `__u32 open_flags`: for maps only; 0.
    open_flags: u32,
}
const _: () = assert!(core::mem::size_of::<FdById>() == 12);

/// The `BPF_LINK_CREATE` part of `union bpf_attr`, up to the flags (the
/// union of per-type fields after it is unused for XDP).
#[repr(C)]
struct LinkCreate {
    /// `__u32 prog_fd` (in a union with `map_fd`): the program.
    prog_fd: u32,
    /// `__u32 target_ifindex` (in a union with `target_fd`): the
    /// interface to attach to.
    target_ifindex: u32,
    /// `__u32 attach_type`: `BPF_XDP`.
    attach_type: u32,
    /// `__u32 flags`: for XDP, one of the `XDP_FLAGS_*_MODE` flags.
    flags: u32,
}
const _: () = assert!(core::mem::size_of::<LinkCreate>() == 16);

/// Calls `bpf(cmd, attr, sizeof attr)`; the result (a descriptor or 0),
/// or the `errno`.
///
/// # Safety
///
/// `A` is the `union bpf_attr` prefix of command `cmd`, with padding
/// zero, and every address in it points to memory of the length it
/// claims that lives until the call returns, writable where the kernel
/// writes (log buffer, info buffer), and that the kernel does not keep.
unsafe fn bpf<A>(cmd: libc::c_long, attr: &mut A) -> Result<libc::c_long, i32> {
    // SAFETY: the caller's contract: the attribute is of the layout the
    // kernel expects for `cmd` and its addresses are valid for the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut A,
            core::mem::size_of::<A>() as libc::c_uint,
        )
    };
    if result < 0 {
        return Err(super::errno());
    }
    Ok(result)
}

/// A bpf call that creates an object; its descriptor.
///
/// # Safety
///
/// As for [`bpf`]; `cmd` returns a new descriptor on success.
unsafe fn bpf_fd<A>(cmd: libc::c_long, attr: &mut A) -> Result<OwnedFd, i32> {
    // SAFETY: the caller's contract, passed on.
    let fd = unsafe { bpf(cmd, attr) }?;
    // SAFETY: `cmd` returned a new descriptor that nothing else owns.
    unsafe { own_fd(fd) }
}

/// An object name as the kernel stores it: NUL-padded.
fn object_name(name: &[u8]) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let len = name.len().min(15);
    bytes[..len].copy_from_slice(&name[..len]);
    bytes
}

/// Why attaching the program failed.
#[derive(Debug)]
pub(crate) enum AttachError {
    /// A step and its `errno`.
    Step(&'static str, i32),
    /// The verifier refused the program: its `errno` and log.
    Verifier { errno: i32, log: String },
}

/// The redirect program attached to an interface, the XSKMAP it
/// redirects to, and the link that keeps it attached. Dropping it closes
/// the link first, which detaches the program (and, as the link held the
/// only reference, unloads it), then the map.
pub(crate) struct XdpProgram {
    /// Declared first so that it drops (closes) first: the program
    /// leaves the interface before its map goes.
    _link: OwnedFd,
    /// Kept open for the life of the device (the program holds the map
    /// too; this keeps it visible as ours).
    _map: OwnedFd,
    id: u32,
}

impl XdpProgram {
    /// Creates an XSKMAP with `queue + 1` slots, puts socket `xsk` in
    /// slot `queue`, loads the redirect program for it and attaches it to
    /// interface `ifindex` in mode `flags` (`XDP_FLAGS_DRV_MODE` or
    /// `XDP_FLAGS_SKB_MODE`).
    pub(crate) fn attach(
        ifindex: u32,
        queue: u32,
        xsk: BorrowedFd<'_>,
        flags: u32,
    ) -> Result<XdpProgram, AttachError> {
        let step = |what| move |errno| AttachError::Step(what, errno);
        let mut create = MapCreate {
            map_type: BPF_MAP_TYPE_XSKMAP,
            key_size: 4,
            value_size: 4,
            max_entries: queue.checked_add(1).ok_or(AttachError::Step(
                "BPF_MAP_CREATE (queue index)",
                libc::EINVAL,
            ))?,
            map_flags: 0,
            inner_map_fd: 0,
            numa_node: 0,
            map_name: object_name(MAP_NAME),
        };
        // SAFETY: a MapCreate is BPF_MAP_CREATE's attribute; it holds no
        // addresses.
        let map = unsafe { bpf_fd(BPF_MAP_CREATE, &mut create) }.map_err(step("BPF_MAP_CREATE"))?;
        let value = xsk.as_raw_fd() as u32;
        let mut update = MapElem {
            map_fd: map.as_raw_fd() as u32,
            _pad: 0,
            key: (&raw const queue) as u64,
            value: (&raw const value) as u64,
            flags: BPF_ANY,
        };
        // SAFETY: a MapElem is BPF_MAP_UPDATE_ELEM's attribute; key and
        // value point to live u32s (the map's key and value sizes), read
        // during the call only.
        unsafe { bpf(BPF_MAP_UPDATE_ELEM, &mut update) }.map_err(step("BPF_MAP_UPDATE_ELEM"))?;
        let program = load(&redirect_to_xskmap(map.as_raw_fd()))?;
        let id = program_id(&program).map_err(step("BPF_OBJ_GET_INFO_BY_FD"))?;
        let mut link = LinkCreate {
            prog_fd: program.as_raw_fd() as u32,
            target_ifindex: ifindex,
            attach_type: BPF_XDP,
            flags,
        };
        // SAFETY: a LinkCreate is BPF_LINK_CREATE's attribute for XDP; it
        // holds no addresses.
        let link =
            unsafe { bpf_fd(BPF_LINK_CREATE, &mut link) }.map_err(step("BPF_LINK_CREATE"))?;
        // The link holds the program now; our descriptor closes here.
        drop(program);
        Ok(XdpProgram {
            _link: link,
            _map: map,
            id,
        })
    }

    /// The program's id, as `ip link` and `bpftool` show it.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

/// Loads `insns` as an XDP program. On a refusal it loads again with a
/// log buffer to return the verifier's reasons (the first attempt goes
/// without, as a log costs time even when the program is accepted).
pub(crate) fn load(insns: &[Insn]) -> Result<OwnedFd, AttachError> {
    let license = b"GPL\0";
    let attribute = |log: &mut [u8]| ProgLoad {
        prog_type: BPF_PROG_TYPE_XDP,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: if log.is_empty() { 0 } else { LOG_LEVEL },
        log_size: log.len() as u32,
        log_buf: if log.is_empty() {
            0
        } else {
            log.as_mut_ptr() as u64
        },
        kern_version: 0,
        prog_flags: 0,
        prog_name: object_name(PROGRAM_NAME),
        prog_ifindex: 0,
        expected_attach_type: BPF_XDP,
    };
    let mut load = attribute(&mut []);
    // SAFETY: a ProgLoad is BPF_PROG_LOAD's attribute; `insns` points to
    // `insn_cnt` instructions and `license` to a NUL-terminated string,
    // both alive during the call; no log buffer.
    match unsafe { bpf_fd(BPF_PROG_LOAD, &mut load) } {
        Ok(fd) => Ok(fd),
        Err(errno @ (libc::EPERM | libc::E2BIG | libc::ENOMEM | libc::ENOSYS)) => {
            Err(AttachError::Step("BPF_PROG_LOAD", errno))
        }
        Err(_) => {
            let mut log = vec![0u8; LOG_SIZE];
            let mut load = attribute(&mut log);
            // SAFETY: as above, and `log_buf` points to `log_size`
            // writable bytes that live during the call.
            match unsafe { bpf_fd(BPF_PROG_LOAD, &mut load) } {
                Ok(fd) => Ok(fd),
                Err(errno) => {
                    let len = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                    let log = String::from_utf8_lossy(&log[..len]).trim_end().to_string();
                    Err(AttachError::Verifier { errno, log })
                }
            }
        }
    }
}

/// The id of the program `program`.
fn program_id(program: &OwnedFd) -> Result<u32, i32> {
    // The start of `struct bpf_prog_info`: `__u32 type; __u32 id;`.
    let mut info = [0u32; 2];
    let mut request = InfoByFd {
        bpf_fd: program.as_raw_fd() as u32,
        info_len: core::mem::size_of_val(&info) as u32,
        info: info.as_mut_ptr() as u64,
    };
    // SAFETY: an InfoByFd is BPF_OBJ_GET_INFO_BY_FD's attribute; `info`
    // points to `info_len` writable bytes alive during the call (the
    // kernel writes at most that many).
    unsafe { bpf(BPF_OBJ_GET_INFO_BY_FD, &mut request) }?;
    Ok(info[1])
}

/// Whether a BPF program with id `id` is loaded (needs `CAP_SYS_ADMIN`).
pub(crate) fn program_exists(id: u32) -> Result<bool, i32> {
    let mut request = FdById {
        id,
        next_id: 0,
        open_flags: 0,
    };
    // SAFETY: an FdById is BPF_PROG_GET_FD_BY_ID's attribute; it holds
    // no addresses. The descriptor it returns is closed at once.
    match unsafe { bpf_fd(BPF_PROG_GET_FD_BY_ID, &mut request) } {
        Ok(_) => Ok(true),
        Err(libc::ENOENT) => Ok(false),
        Err(errno) => Err(errno),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_cut_and_padded() {
        assert_eq!(&object_name(b"ab")[..3], b"ab\0");
        let long = object_name(b"0123456789abcdefgh");
        assert_eq!(&long[..15], b"0123456789abcde");
        assert_eq!(long[15], 0);
        assert!(PROGRAM_NAME.len() <= 15 && MAP_NAME.len() <= 15);
    }

    #[test]
    fn a_rejected_program_comes_back_with_the_verifiers_log() {
        if !crate::privilege::can_run(&[]) {
            return;
        }
        match load(&crate::program::unset_return_value()) {
            Err(AttachError::Verifier { errno, log }) => {
                assert!(errno == libc::EACCES || errno == libc::EINVAL, "{errno}");
                // The log names the register the program failed to set.
                assert!(log.contains("R0"), "{log}");
            }
            Err(err) => panic!("not a verifier error: {err:?}"),
            Ok(_) => panic!("the verifier took a program without a return value"),
        }
    }

    #[test]
    fn the_redirect_program_passes_the_verifier_and_unloads_when_closed() {
        if !crate::privilege::can_run(&[]) {
            return;
        }
        let mut create = MapCreate {
            map_type: BPF_MAP_TYPE_XSKMAP,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            map_flags: 0,
            inner_map_fd: 0,
            numa_node: 0,
            map_name: object_name(MAP_NAME),
        };
        // SAFETY: a MapCreate is BPF_MAP_CREATE's attribute, without
        // addresses.
        let map = unsafe { bpf_fd(BPF_MAP_CREATE, &mut create) }.unwrap();
        let program = load(&redirect_to_xskmap(map.as_raw_fd())).unwrap();
        let id = program_id(&program).unwrap();
        assert!(id > 0);
        assert_eq!(program_exists(id), Ok(true));
        drop(program);
        assert_eq!(program_exists(id), Ok(false));
    }
}
