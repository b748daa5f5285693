//! An `AF_PACKET` socket bound to one interface: the stack shares an
//! existing link (a veth end, a physical NIC) with the kernel.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{
    Error, IfName, MAX_FRAME_CAPACITY, Pool, Zeroable, interface_mac, interface_mtu, now,
    would_block,
};
use crate::nic::memory::{MemoryFrame, MemoryHandle};
use crate::nic::vnet::{self, VNET_HEADER_LEN, VNET_HEADER_NONE, VnetHeader};
use crate::nic::{self, Capabilities, Device, Info, Packet, Recv, Send};
use crate::wire::ChecksumMode;
use crate::wire::ethernet::EthernetAddress;

/// Frames per `recvmmsg`/`sendmmsg` call. The call's arguments live on
/// the stack (about 10 KiB at 64), whatever the pool's size.
const BATCH: usize = 64;

/// Room for the control messages of one received frame: the
/// `PACKET_AUXDATA` message takes 40 bytes on 64-bit Linux.
const CONTROL_LEN: usize = 64;

/// A control message buffer, aligned as `cmsghdr` needs.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; CONTROL_LEN]);

/// What `recvmmsg` said about one frame.
#[derive(Debug, Clone, Copy, Default)]
struct Arrival {
    /// The frame's length on the wire (more than the buffer if cut).
    len: usize,
    /// The kernel cut the frame to fit the buffer.
    truncated: bool,
    /// Our own transmission, looped back.
    outgoing: bool,
    /// `tp_status` of the auxiliary data (0 without it).
    status: u32,
    /// The VLAN tag the kernel took out of the frame, if it did.
    vlan: Option<(u16, u16)>,
    /// The virtio-net header before the frame (sockets with offloads).
    vnet: Option<VnetHeader>,
}

/// How a packet socket is opened: [`RawSocket::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RawOptions {
    /// Exchanges virtio-net headers with the kernel (`PACKET_VNET_HDR`),
    /// as a TAP with [`TapOptions::offload`](super::TapOptions::offload)
    /// does: frames the interface coalesced or a local sender left
    /// unsegmented (a veth peer with TSO on, a NIC with GRO) arrive as
    /// one TCP segment of up to 64 KiB where the buffers hold 65,535
    /// bytes, unfinished checksums arrive marked offloaded, and the
    /// stack leaves its TCP checksums and the cutting of segments of many
    /// MSS to the kernel.
    pub offload: bool,
}

/// An `AF_PACKET` socket on one interface with `N` frame buffers carved
/// from `storage`.
///
/// [`rx`](Device::rx) lends every frame the interface receives (whoever
/// it is addressed to; see [`set_promiscuous`](Self::set_promiscuous)
/// for a physical NIC); frames the stack queues leave through the
/// interface. The kernel's own stack keeps working beside it, so give
/// the stack an address the kernel does not have on this interface (or
/// the kernel answers too). [`mac_address`](Self::mac_address) is the
/// interface's, a natural choice for the stack's.
///
/// Receiving and sending are batched: one `recvmmsg` or `sendmmsg` moves
/// up to 64 frames, and a batch shares one timestamp.
///
/// Checksums: a sender on the same host (the other end of a veth, a
/// local socket) with checksum offload leaves TCP and UDP checksums
/// unfinished; the kernel flags those frames (`TP_STATUS_CSUMNOTREADY`)
/// and they are lent with the TCP and UDP receive checksums reported as
/// offloaded, so the stack takes them rather than dropping them as
/// corrupt. Frames the kernel already verified (`TP_STATUS_CSUM_VALID`)
/// are reported the same way. Everything the stack sends carries its own
/// checksums, unless the socket was opened with [`RawOptions::offload`]:
/// then TCP checksums and the cutting of long segments are the kernel's.
///
/// Across a veth without offloads the kernel's end must not hand over
/// unsegmented TCP (`ethtool -K PEER tso off gso off`): such frames are
/// longer than the buffers and dropped (counted as `rx_truncated`).
#[derive(Debug)]
pub struct RawSocket<S, const N: usize> {
    fd: OwnedFd,
    name: IfName,
    index: u32,
    mtu: usize,
    mac: EthernetAddress,
    pool: Pool<S, N>,
    /// Lend frames the interface sends, too (a capture tool's view).
    outgoing: bool,
    /// Every frame behind a virtio-net header.
    vnet_header: bool,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> RawSocket<S, N> {
    /// Opens a socket on the interface `name` in the calling thread's
    /// network namespace. The interface's MTU must fit the buffers
    /// (`storage.len() / N` bytes each, 14 more than the MTU).
    ///
    /// Needs `CAP_NET_RAW`.
    pub fn open(name: &str, storage: S) -> Result<Self, Error> {
        Self::open_with(name, RawOptions::default(), storage)
    }

    /// [`open`](Self::open) with the offloads of `options`.
    pub fn open_with(name: &str, options: RawOptions, storage: S) -> Result<Self, Error> {
        let name = IfName::new(name)?;
        let mut pool = Pool::new(storage)?;
        if options.offload {
            pool.tx_capabilities = vnet::tx_capabilities(pool.frame_capacity >= MAX_FRAME_CAPACITY);
        }
        let c_name = name.to_c_chars();
        // SAFETY: `c_name` is NUL-terminated and outlives the call.
        let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        if index == 0 {
            return Err(Error::last("if_nametoindex", Some(name)));
        }
        let mtu = interface_mtu(name)?;
        pool.check_mtu(mtu)?;
        let mac = interface_mac(name)?;
        let fd = open_socket()?;
        // Flags on each frame: the checksum state, a VLAN tag taken out.
        set_option(fd.as_fd(), libc::PACKET_AUXDATA, &1i32, "PACKET_AUXDATA")?;
        // Our own frames need not come back; kernels before 4.20 lack the
        // option, and rx skips them by their packet type anyway.
        let _ = set_option(fd.as_fd(), libc::PACKET_IGNORE_OUTGOING, &1i32, "");
        let buffer = match options.offload {
            true => OFFLOAD_SOCKET_BUFFER,
            false => SOCKET_BUFFER,
        };
        enlarge_socket_buffers(fd.as_fd(), buffer);
        if options.offload {
            set_option(fd.as_fd(), libc::PACKET_VNET_HDR, &1i32, "PACKET_VNET_HDR")?;
        }
        let mut address = libc::sockaddr_ll::zeroed();
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        address.sll_ifindex = libc::c_int::try_from(index).unwrap_or(0);
        // SAFETY: `address` is a sockaddr_ll of the length passed, live for
        // the call.
        let bound = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const address).cast(),
                core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound < 0 {
            return Err(Error::last("bind to the interface", Some(name)));
        }
        Ok(RawSocket {
            fd,
            name,
            index,
            mtu,
            mac,
            pool,
            outgoing: false,
            vnet_header: options.offload,
        })
    }

    /// Whether every frame carries a virtio-net header
    /// ([`RawOptions::offload`]).
    pub fn vnet_header(&self) -> bool {
        self.vnet_header
    }

    /// The interface's index.
    pub fn interface_index(&self) -> u32 {
        self.index
    }

    /// The interface's hardware address when the socket was opened.
    pub fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    /// Puts the interface in promiscuous mode (`on`), so that a NIC also
    /// passes frames addressed to a MAC address other than its own (the
    /// stack's); or takes back one earlier request (`!on`). The kernel
    /// counts the requests and drops this socket's when it closes.
    pub fn set_promiscuous(&self, on: bool) -> Result<(), Error> {
        let mut request = libc::packet_mreq::zeroed();
        request.mr_ifindex = libc::c_int::try_from(self.index).unwrap_or(0);
        request.mr_type = libc::PACKET_MR_PROMISC as u16;
        let option = if on {
            libc::PACKET_ADD_MEMBERSHIP
        } else {
            libc::PACKET_DROP_MEMBERSHIP
        };
        set_option(self.fd.as_fd(), option, &request, "PACKET_ADD_MEMBERSHIP")
    }

    /// Lends the frames the interface sends as well (`on`): the kernel's
    /// own, other sockets', and this socket's. That is the view a capture
    /// tool wants; a stack must not have it, or it takes its own
    /// transmissions for received frames, so by default they are skipped
    /// (and counted as `rx_outgoing`).
    pub fn set_outgoing(&mut self, on: bool) {
        // Kernels before 4.20 lack the option and deliver outgoing frames
        // anyway; `accept` decides by the packet type either way.
        let _ = set_option(
            self.fd.as_fd(),
            libc::PACKET_IGNORE_OUTGOING,
            &i32::from(!on),
            "",
        );
        self.outgoing = on;
    }

    /// Whether frames the interface sends are lent too
    /// ([`set_outgoing`](Self::set_outgoing)).
    pub fn outgoing(&self) -> bool {
        self.outgoing
    }
}

/// A non-blocking packet socket that receives nothing until bound.
fn open_socket() -> Result<OwnedFd, Error> {
    // SAFETY: plain socket(2) call without pointers. Protocol 0 receives
    // nothing, so no frame of another interface arrives before `bind`.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(Error::last("socket(AF_PACKET) (needs CAP_NET_RAW)", None));
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets `SOL_PACKET` option `option` to `value`.
fn set_option<T: Copy>(
    fd: BorrowedFd<'_>,
    option: libc::c_int,
    value: &T,
    what: &'static str,
) -> Result<(), Error> {
    set_socket_option(fd, libc::SOL_PACKET, option, value, what)
}

/// The socket's receive and send buffers: what the kernel holds for us
/// between two batches. The defaults (about 200 KiB) overflow when a
/// kernel sender's window of frames arrives while the stack's thread is
/// descheduled, and every overflow is a loss its TCP must repair. With
/// `CAP_NET_ADMIN` the size is forced past `net.core.rmem_max`; without
/// it the kernel caps the request at that limit. Best effort: a refusal
/// leaves the default.
const SOCKET_BUFFER: libc::c_int = 4 << 20;

/// With offloads a frame may be 64 KiB: as many frames need 16 times the
/// room.
const OFFLOAD_SOCKET_BUFFER: libc::c_int = 64 << 20;

fn enlarge_socket_buffers(fd: BorrowedFd<'_>, size: libc::c_int) {
    for (forced, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if set_socket_option(fd, libc::SOL_SOCKET, forced, &size, "").is_err() {
            let _ = set_socket_option(fd, libc::SOL_SOCKET, plain, &size, "");
        }
    }
}

/// Sets option `option` of `level` to `value`.
fn set_socket_option<T: Copy>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    option: libc::c_int,
    value: &T,
    what: &'static str,
) -> Result<(), Error> {
    // SAFETY: `value` is a live `T` of the length passed, only read.
    let set = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            option,
            (value as *const T).cast(),
            core::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if set < 0 {
        return Err(Error::last(what, None));
    }
    Ok(())
}

/// Receives up to `indices.len()` (at most [`BATCH`]) frames into those
/// buffers with one `recvmmsg`; returns what arrived in the first ones,
/// or the `errno`.
fn receive_batch<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(
    fd: BorrowedFd<'_>,
    pool: &mut Pool<S, N>,
    vnet_header: bool,
    indices: &[u16],
    arrivals: &mut [Arrival; BATCH],
) -> Result<usize, i32> {
    let count = indices.len().min(BATCH);
    let capacity = pool.frame_capacity;
    let Some(base) = pool.base() else {
        return Err(libc::EFAULT);
    };
    // Each frame behind its virtio-net header, if there is one.
    let mut iovs: [[libc::iovec; 2]; BATCH] =
        core::array::from_fn(|_| [libc::iovec::zeroed(), libc::iovec::zeroed()]);
    let mut vnets = [VNET_HEADER_NONE; BATCH];
    let parts = if vnet_header { 2 } else { 1 };
    let mut addresses: [libc::sockaddr_ll; BATCH] =
        core::array::from_fn(|_| libc::sockaddr_ll::zeroed());
    let mut controls = [Control([0; CONTROL_LEN]); BATCH];
    let mut messages: [libc::mmsghdr; BATCH] = core::array::from_fn(|_| libc::mmsghdr::zeroed());
    for k in 0..count {
        let offset = usize::from(indices[k]) * capacity;
        let frame = libc::iovec {
            // SAFETY: `base` starts storage of at least N * capacity
            // bytes (checked by `base`) and the index is below N, so the
            // buffer is inside it; the pool lends each index once, so no
            // two iovecs overlap and nothing else touches these buffers
            // during the call.
            iov_base: unsafe { base.add(offset) }.cast(),
            iov_len: capacity,
        };
        iovs[k] = frame_parts(vnet_header.then_some(&mut vnets[k]), frame);
        let header = &mut messages[k].msg_hdr;
        header.msg_name = (&raw mut addresses[k]).cast();
        header.msg_namelen = core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        header.msg_iov = iovs[k].as_mut_ptr();
        header.msg_iovlen = parts;
        header.msg_control = (&raw mut controls[k]).cast();
        header.msg_controllen = CONTROL_LEN as _;
    }
    // SAFETY: `messages[..count]` are valid headers whose name, iovec and
    // control pointers point to live buffers of the lengths given, all on
    // this stack frame or in the pool's storage, and unused by anything
    // else until the call returns. No timeout pointer.
    let received = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            messages.as_mut_ptr(),
            count as libc::c_uint,
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            core::ptr::null_mut(),
        )
    };
    let Ok(received) = usize::try_from(received) else {
        return Err(super::errno());
    };
    let received = received.min(count);
    for k in 0..received {
        let header = &messages[k].msg_hdr;
        let aux = auxdata(&controls[k], header.msg_controllen as usize);
        let status = aux.map_or(0, |aux| aux.tp_status);
        let len = messages[k].msg_len as usize;
        let (len, vnet) = match vnet_header {
            true => (
                len.saturating_sub(VNET_HEADER_LEN),
                VnetHeader::parse(&vnets[k]),
            ),
            false => (len, None),
        };
        arrivals[k] = Arrival {
            len,
            vnet,
            truncated: header.msg_flags & libc::MSG_TRUNC != 0,
            outgoing: addresses[k].sll_pkttype == libc::PACKET_OUTGOING,
            status,
            vlan: aux.and_then(|aux| vlan_tag(&aux)),
        };
    }
    Ok(received)
}

/// The vectors of one message: the frame, behind its virtio-net header
/// if there is one (the second vector unused otherwise).
fn frame_parts(vnet: Option<&mut [u8; VNET_HEADER_LEN]>, frame: libc::iovec) -> [libc::iovec; 2] {
    match vnet {
        Some(vnet) => {
            let vnet = libc::iovec {
                iov_base: vnet.as_mut_ptr().cast(),
                iov_len: VNET_HEADER_LEN,
            };
            [vnet, frame]
        }
        None => [frame, libc::iovec::zeroed()],
    }
}

/// The `PACKET_AUXDATA` message among the first `len` bytes of control
/// messages, if there is one.
fn auxdata(control: &Control, len: usize) -> Option<libc::tpacket_auxdata> {
    auxdata_in(control.0.get(..len.min(CONTROL_LEN))?)
}

/// The VLAN tag (TPID, TCI) the kernel took out of a frame, if it did.
fn vlan_tag(aux: &libc::tpacket_auxdata) -> Option<(u16, u16)> {
    let status = aux.tp_status;
    if status & libc::TP_STATUS_VLAN_VALID == 0 {
        return None;
    }
    let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
        aux.tp_vlan_tpid
    } else {
        0x8100
    };
    Some((tpid, aux.tp_vlan_tci))
}

/// The `PACKET_AUXDATA` message among the control messages `bytes`.
fn auxdata_in(bytes: &[u8]) -> Option<libc::tpacket_auxdata> {
    // The messages are `cmsghdr`s (length, level, type) each followed by
    // data and padded to the word size; walked here with checked reads
    // instead of the C macros.
    let word = core::mem::size_of::<usize>();
    let header_len = core::mem::size_of::<libc::cmsghdr>();
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + header_len) {
        let message_len = usize::from_ne_bytes(header.get(..word)?.try_into().ok()?);
        let level = i32::from_ne_bytes(header.get(word..word + 4)?.try_into().ok()?);
        let kind = i32::from_ne_bytes(header.get(word + 4..word + 8)?.try_into().ok()?);
        if message_len < header_len {
            return None;
        }
        if level == libc::SOL_PACKET && kind == libc::PACKET_AUXDATA {
            let data = bytes.get(at + header_len..at + message_len)?;
            let field = |offset: usize| -> Option<[u8; 4]> {
                data.get(offset..offset + 4)?.try_into().ok()
            };
            let half = |offset: usize| -> Option<[u8; 2]> {
                data.get(offset..offset + 2)?.try_into().ok()
            };
            let mut aux = libc::tpacket_auxdata::zeroed();
            aux.tp_status = u32::from_ne_bytes(field(0)?);
            aux.tp_len = u32::from_ne_bytes(field(4)?);
            aux.tp_snaplen = u32::from_ne_bytes(field(8)?);
            aux.tp_mac = u16::from_ne_bytes(half(12)?);
            aux.tp_net = u16::from_ne_bytes(half(14)?);
            aux.tp_vlan_tci = u16::from_ne_bytes(half(16)?);
            aux.tp_vlan_tpid = u16::from_ne_bytes(half(18)?);
            return Some(aux);
        }
        at = at.checked_add(message_len.checked_next_multiple_of(word)?)?;
    }
    None
}

/// Hands up to [`BATCH`] queued frames to the kernel with one
/// `sendmmsg`; returns how many it took, or the `errno` of the first.
fn send_batch<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(
    fd: BorrowedFd<'_>,
    vnet_header: bool,
    pool: &mut Pool<S, N>,
) -> Result<usize, i32> {
    let count = pool.queued.len().min(BATCH);
    let capacity = pool.frame_capacity;
    // What the kernel is to finish or cut, per frame, written first:
    // the frames' TCP checksum fields change.
    let mut vnets = [VNET_HEADER_NONE; BATCH];
    if vnet_header {
        for (k, vnet) in vnets.iter_mut().enumerate().take(count) {
            let index = pool.queued.peek(k).unwrap_or(0);
            let (len, size) = (pool.len_of(index), pool.segment_size_of(index));
            let frame = pool.slot(index);
            let len = len.min(frame.len());
            *vnet = vnet::tx_header(&mut frame[..len], size);
        }
    }
    let Some(base) = pool.base() else {
        return Err(libc::EFAULT);
    };
    let mut iovs: [[libc::iovec; 2]; BATCH] =
        core::array::from_fn(|_| [libc::iovec::zeroed(), libc::iovec::zeroed()]);
    let mut messages: [libc::mmsghdr; BATCH] = core::array::from_fn(|_| libc::mmsghdr::zeroed());
    for k in 0..count {
        let index = pool.queued.peek(k).unwrap_or(0);
        let offset = usize::from(index) * capacity;
        let frame = libc::iovec {
            // SAFETY: as in `receive_batch`: the buffer lies inside the
            // storage checked by `base`; the kernel only reads it.
            iov_base: unsafe { base.add(offset) }.cast(),
            iov_len: pool.len_of(index).min(capacity),
        };
        iovs[k] = frame_parts(vnet_header.then_some(&mut vnets[k]), frame);
        // No address: a bound packet socket sends out of its interface.
        messages[k].msg_hdr.msg_iov = iovs[k].as_mut_ptr();
        messages[k].msg_hdr.msg_iovlen = if vnet_header { 2 } else { 1 };
    }
    // SAFETY: `messages[..count]` are valid headers whose iovecs point to
    // live frames of the lengths given, unused by anything else until the
    // call returns.
    let sent = unsafe {
        libc::sendmmsg(
            fd.as_raw_fd(),
            messages.as_mut_ptr(),
            count as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    match usize::try_from(sent) {
        Ok(sent) => Ok(sent.min(count)),
        Err(_) => Err(super::errno()),
    }
}

/// Hands the queued frames to the kernel until it would block; frames it
/// refuses (link down, too long, dropped by the queueing discipline) are
/// dropped and counted.
fn flush<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(
    fd: BorrowedFd<'_>,
    vnet_header: bool,
    pool: &mut Pool<S, N>,
) {
    while pool.queued.len() > 0 {
        match send_batch(fd, vnet_header, pool) {
            // Only an empty batch sends nothing; leave rather than spin.
            Ok(0) => break,
            Ok(sent) => pool.sent(sent),
            Err(errno) if would_block(errno) => break,
            Err(errno) => pool.refused(errno),
        }
    }
}

/// Puts back the VLAN tag the kernel took out of a `len`-byte frame in
/// `frame` (after the two MAC addresses); returns the new length, or
/// `None` if the tagged frame does not fit.
fn restore_vlan_tag(frame: &mut [u8], len: usize, (tpid, tci): (u16, u16)) -> Option<usize> {
    let tagged = len.checked_add(4)?;
    if len < 12 || tagged > frame.len() {
        return None;
    }
    frame.copy_within(12..len, 16);
    frame[12..14].copy_from_slice(&tpid.to_be_bytes());
    frame[14..16].copy_from_slice(&tci.to_be_bytes());
    Some(tagged)
}

/// The length of the frame that arrived in buffer `index`, to lend; or
/// `None`, counted, if it is dropped. Frames the interface sent are
/// dropped unless `keep_outgoing`.
fn accept<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(
    pool: &mut Pool<S, N>,
    index: u16,
    arrival: Arrival,
    keep_outgoing: bool,
) -> Option<usize> {
    if arrival.outgoing && !keep_outgoing {
        pool.stats.rx_outgoing += 1;
        return None;
    }
    let len = match arrival.vlan {
        _ if arrival.truncated || arrival.len > pool.frame_capacity => None,
        Some(tag) => restore_vlan_tag(pool.slot(index), arrival.len, tag),
        None => Some(arrival.len),
    };
    if len.is_none() {
        pool.stats.rx_truncated += 1;
    }
    len
}

/// Finishes a frame received by other means than [`RawSocket`] (the
/// io_uring backend) on an `AF_PACKET` socket with `PACKET_AUXDATA` on,
/// as `RawSocket` finishes its own: `frame[..len]` holds the frame in a
/// buffer of `frame.len()` bytes, `control` the control messages that came
/// with it. Puts back the VLAN tag the kernel took out and reads the
/// checksum state.
///
/// Returns the frame's length, what the device did for it, and whether
/// its TCP/UDP checksum was left unfinished by a local sender; `None` if
/// the frame with its tag does not fit the buffer (drop it).
pub fn finish_packet(
    control: &[u8],
    frame: &mut [u8],
    len: usize,
) -> Option<(usize, Capabilities, bool)> {
    let Some(aux) = auxdata_in(control) else {
        return Some((len, Capabilities::SOFTWARE, false));
    };
    let status = aux.tp_status;
    let len = match vlan_tag(&aux) {
        Some(tag) => restore_vlan_tag(frame, len, tag)?,
        None => len,
    };
    let unfinished = status & libc::TP_STATUS_CSUMNOTREADY != 0;
    Some((len, capabilities(status), unfinished))
}

/// What the device does for a frame with auxiliary status `status`.
fn capabilities(status: u32) -> Capabilities {
    let mut capabilities = Capabilities::SOFTWARE;
    if status & (libc::TP_STATUS_CSUMNOTREADY | libc::TP_STATUS_CSUM_VALID) != 0 {
        // Unfinished (a local sender offloaded it) or already verified:
        // either way there is nothing for the stack to check.
        capabilities.tcp.rx = ChecksumMode::Offloaded;
        capabilities.udp.rx = ChecksumMode::Offloaded;
    }
    capabilities
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> Device for RawSocket<S, N> {
    type Handle<'d> = MemoryHandle;
    type Payload<'d> = MemoryFrame<'d>;

    /// Receives up to `max` frames, a batch per `recvmmsg` until the
    /// socket has no more, and lends each to `receiver`; frames it queued
    /// are then sent.
    ///
    /// Frames larger than a buffer are dropped (counted as
    /// `rx_truncated`), as are frames the interface sent, unless asked
    /// for ([`set_outgoing`](RawSocket::set_outgoing); else counted as
    /// `rx_outgoing`).
    /// A receive error other than "nothing waiting" is returned as
    /// [`nic::Error::Os`] when nothing was lent before it.
    fn rx<R: Recv<Self>>(&mut self, max: usize, mut receiver: R) -> nic::Result<usize> {
        let fd = self.fd.as_fd();
        let vnet = self.vnet_header;
        let mut count = 0;
        let mut failure = None;
        let mut arrivals = [Arrival::default(); BATCH];
        while count < max {
            if self.pool.free.len() == 0 {
                flush(fd, vnet, &mut self.pool);
            }
            // Free buffers for this batch, each taken once.
            let mut indices = [0u16; BATCH];
            let mut wanted = 0;
            while wanted < (max - count).min(BATCH) {
                let Some(index) = self.pool.free.pop() else {
                    break;
                };
                indices[wanted] = index;
                wanted += 1;
            }
            if wanted == 0 {
                break;
            }
            let received =
                match receive_batch(fd, &mut self.pool, vnet, &indices[..wanted], &mut arrivals) {
                    Ok(received) => received,
                    Err(errno) => {
                        if !would_block(errno) && count == 0 {
                            failure = Some(errno);
                        }
                        0
                    }
                };
            let timestamp = now();
            for (k, &index) in indices[..wanted].iter().enumerate() {
                let len = match arrivals.get(k) {
                    Some(&arrival) if k < received => {
                        accept(&mut self.pool, index, arrival, self.outgoing)
                    }
                    _ => None,
                };
                let Some(len) = len else {
                    self.pool.free.push(index);
                    continue;
                };
                let arrival = arrivals[k];
                let stats = &mut self.pool.stats;
                stats.rx_frames += 1;
                let mut capabilities = capabilities(arrival.status);
                let mut partial = arrival.status & libc::TP_STATUS_CSUMNOTREADY != 0;
                if let Some(header) = arrival.vnet {
                    capabilities = header.add_to(capabilities);
                    partial |= header.partial_checksum();
                    stats.rx_segmented += u64::from(header.segmented());
                }
                stats.rx_partial_checksum += u64::from(partial);
                let info = Info {
                    timestamp,
                    capabilities,
                };
                self.pool.lend(index, len, info, |handle, payload| {
                    receiver.receive(Packet { handle, payload })
                });
                count += 1;
            }
            if received < wanted {
                // The socket is drained (or failed).
                break;
            }
        }
        flush(fd, vnet, &mut self.pool);
        match failure {
            Some(errno) => Err(nic::Error::Os(errno)),
            None => Ok(count),
        }
    }

    /// Lends up to `max` free buffers to `sender` and sends the frames
    /// queued in them (and any queued before), a batch per `sendmmsg`.
    fn tx<T: Send<Self>>(&mut self, max: usize, sender: T) -> nic::Result<usize> {
        let fd = self.fd.as_fd();
        let vnet = self.vnet_header;
        Ok(self.pool.send(max, |pool| flush(fd, vnet, pool), sender))
    }
}

super::device_common!(RawSocket);

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// A control buffer holding one message of `level`/`kind` with `data`.
    fn control_with(level: i32, kind: i32, data: &[u8]) -> (Control, usize) {
        let word = core::mem::size_of::<usize>();
        let header = core::mem::size_of::<libc::cmsghdr>();
        let mut control = Control([0; CONTROL_LEN]);
        let len = header + data.len();
        control.0[..word].copy_from_slice(&len.to_ne_bytes());
        control.0[word..word + 4].copy_from_slice(&level.to_ne_bytes());
        control.0[word + 4..word + 8].copy_from_slice(&kind.to_ne_bytes());
        control.0[header..len].copy_from_slice(data);
        (control, len.next_multiple_of(word))
    }

    fn aux_bytes(status: u32, tci: u16, tpid: u16) -> [u8; 20] {
        let mut data = [0u8; 20];
        data[..4].copy_from_slice(&status.to_ne_bytes());
        data[4..8].copy_from_slice(&60u32.to_ne_bytes());
        data[16..18].copy_from_slice(&tci.to_ne_bytes());
        data[18..20].copy_from_slice(&tpid.to_ne_bytes());
        data
    }

    #[test]
    fn auxdata_is_found_and_read() {
        let status = libc::TP_STATUS_CSUMNOTREADY | libc::TP_STATUS_VLAN_VALID;
        let (control, len) = control_with(
            libc::SOL_PACKET,
            libc::PACKET_AUXDATA,
            &aux_bytes(status, 42, 0x88a8),
        );
        let aux = auxdata(&control, len).unwrap();
        assert_eq!(aux.tp_status, status);
        assert_eq!(aux.tp_len, 60);
        assert_eq!(aux.tp_vlan_tci, 42);
        assert_eq!(aux.tp_vlan_tpid, 0x88a8);
        // Nothing reported, or something else reported: no aux data.
        assert!(auxdata(&control, 0).is_none());
        let (other, len) = control_with(libc::SOL_SOCKET, libc::SO_TIMESTAMP, &[0; 16]);
        assert!(auxdata(&other, len).is_none());
    }

    #[test]
    fn frames_received_elsewhere_are_finished_like_ours() {
        let status = libc::TP_STATUS_CSUMNOTREADY | libc::TP_STATUS_VLAN_VALID;
        let (control, len) = control_with(
            libc::SOL_PACKET,
            libc::PACKET_AUXDATA,
            &aux_bytes(status, 5, 0),
        );
        let control = &control.0[..len];
        let mut frame = [0u8; 64];
        let (tagged, caps, unfinished) = finish_packet(control, &mut frame, 60).unwrap();
        assert_eq!(tagged, 64);
        assert!(unfinished);
        assert_eq!(caps, capabilities(status));
        assert_eq!(&frame[12..16], &[0x81, 0x00, 0x00, 0x05]);
        // Without aux data: untouched, everything in software.
        assert_eq!(
            finish_packet(&[], &mut frame, 60),
            Some((60, Capabilities::SOFTWARE, false))
        );
        // No room for the tag: dropped.
        assert_eq!(finish_packet(control, &mut [0u8; 60], 60), None);
    }

    #[test]
    fn hostile_control_lengths_do_not_panic() {
        let word = core::mem::size_of::<usize>();
        for claimed in [
            0usize,
            1,
            15,
            16,
            17,
            40,
            63,
            64,
            65,
            usize::MAX,
            usize::MAX - 7,
        ] {
            let (mut control, _) =
                control_with(libc::SOL_PACKET, libc::PACKET_AUXDATA, &aux_bytes(1, 0, 0));
            control.0[..word].copy_from_slice(&claimed.to_ne_bytes());
            for len in [0, 8, 16, 40, 64, 1000] {
                let _ = auxdata(&control, len);
            }
        }
        // A short message whose data cannot hold the aux data.
        let (control, len) = control_with(libc::SOL_PACKET, libc::PACKET_AUXDATA, &[0; 8]);
        assert!(auxdata(&control, len).is_none());
    }

    #[test]
    fn unfinished_or_verified_checksums_are_offloaded_for_tcp_and_udp_only() {
        assert_eq!(capabilities(0), Capabilities::SOFTWARE);
        assert_eq!(
            capabilities(libc::TP_STATUS_VLAN_VALID),
            Capabilities::SOFTWARE
        );
        for status in [libc::TP_STATUS_CSUMNOTREADY, libc::TP_STATUS_CSUM_VALID] {
            let caps = capabilities(status);
            assert_eq!(caps.tcp.rx, ChecksumMode::Offloaded);
            assert_eq!(caps.udp.rx, ChecksumMode::Offloaded);
            // Sending, IPv4 headers and ICMP stay the stack's work.
            assert_eq!(caps.tcp.tx, ChecksumMode::Software);
            assert_eq!(caps.udp.tx, ChecksumMode::Software);
            assert_eq!(caps.ipv4, Capabilities::SOFTWARE.ipv4);
            assert_eq!(caps.icmpv4, Capabilities::SOFTWARE.icmpv4);
        }
    }

    #[test]
    fn vlan_tags_go_back_between_addresses_and_type() {
        let mut frame = [0u8; 64];
        for (i, byte) in frame.iter_mut().enumerate().take(60) {
            *byte = i as u8;
        }
        assert_eq!(restore_vlan_tag(&mut frame, 60, (0x8100, 0x0005)), Some(64));
        assert_eq!(&frame[..12], &(0..12).collect::<Vec<u8>>()[..]);
        assert_eq!(&frame[12..16], &[0x81, 0x00, 0x00, 0x05]);
        assert_eq!(frame[16], 12);
        assert_eq!(frame[63], 59);
        // No room for the tag, or a frame too short to hold addresses.
        let mut full = [0u8; 60];
        assert_eq!(restore_vlan_tag(&mut full, 60, (0x8100, 1)), None);
        assert_eq!(restore_vlan_tag(&mut full, 11, (0x8100, 1)), None);
        assert_eq!(restore_vlan_tag(&mut full, usize::MAX, (0x8100, 1)), None);
    }

    #[test]
    fn missing_interfaces_are_named_without_privileges() {
        let err = RawSocket::<_, 4>::open("ethox-none0", vec![0u8; 4 * 1514]).unwrap_err();
        assert_eq!(
            err,
            Error::NoSuchInterface(IfName::new("ethox-none0").unwrap())
        );
        assert_eq!(
            RawSocket::<_, 4>::open("bad/name", vec![0u8; 4 * 1514]).unwrap_err(),
            Error::InvalidName
        );
        assert_eq!(
            RawSocket::<_, 0>::open("lo", vec![0u8; 1514]).unwrap_err(),
            Error::BadConfiguration
        );
    }
}
