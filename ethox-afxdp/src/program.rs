//! The XDP program, written as raw BPF instructions (no compiler, no
//! object file): it redirects every frame of the socket's queue to the
//! socket.
//!
//! In C it would read
//!
//! ```c
//! SEC("xdp") int redirect(struct xdp_md *ctx) {
//!     return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
//! }
//! ```
//!
//! `bpf_redirect_map` looks the queue's index up in the XSKMAP `xsks`
//! and redirects the frame to the socket stored there; the low bits of
//! its flags argument (`XDP_PASS`) are the verdict when there is none,
//! so frames of other queues reach the kernel's stack as usual.

/// One BPF instruction, laid out as the kernel's `struct bpf_insn`:
/// `__u8 code; __u8 dst_reg:4, src_reg:4; __s16 off; __s32 imm;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Insn {
    code: u8,
    /// The two 4-bit register fields. C bit-fields fill a byte from the
    /// least significant bit on little-endian targets and from the most
    /// significant on big-endian ones; `dst_reg` is declared first.
    regs: u8,
    off: i16,
    imm: i32,
}

// Instruction classes, sizes, modes and operations (uapi
// linux/bpf_common.h and linux/bpf.h).
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_JMP: u8 = 0x05;
const BPF_ALU64: u8 = 0x07;
const BPF_W: u8 = 0x00;
const BPF_DW: u8 = 0x18;
const BPF_IMM: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_MOV: u8 = 0xb0;
const BPF_CALL: u8 = 0x80;
const BPF_EXIT: u8 = 0x90;
/// `src_reg` of a 64-bit immediate load whose immediate is a map's file
/// descriptor: the verifier replaces it with the map's address.
const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `BPF_FUNC_redirect_map` in the helper list of linux/bpf.h.
const BPF_FUNC_REDIRECT_MAP: i32 = 51;
/// The XDP verdict "let the kernel's stack have the frame".
const XDP_PASS: i32 = 2;
/// `offsetof(struct xdp_md, rx_queue_index)`: after `data`,
/// `data_end`, `data_meta` and `ingress_ifindex`, each a `__u32`.
const XDP_MD_RX_QUEUE_INDEX: i16 = 16;

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        let regs = if cfg!(target_endian = "little") {
            (dst & 0x0f) | (src << 4)
        } else {
            (dst << 4) | (src & 0x0f)
        };
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    /// The instruction's eight bytes, in memory order.
    #[cfg(test)]
    fn bytes(self) -> [u8; 8] {
        let mut bytes = [0; 8];
        bytes[0] = self.code;
        bytes[1] = self.regs;
        bytes[2..4].copy_from_slice(&self.off.to_ne_bytes());
        bytes[4..].copy_from_slice(&self.imm.to_ne_bytes());
        bytes
    }
}

/// The redirect program for the XSKMAP with file descriptor `map_fd`:
/// five instructions, the map load taking two slots.
pub(crate) fn redirect_to_xskmap(map_fd: i32) -> [Insn; 6] {
    [
        // r2 = ctx->rx_queue_index (r1 holds the context on entry)
        Insn::new(BPF_LDX | BPF_MEM | BPF_W, 2, 1, XDP_MD_RX_QUEUE_INDEX, 0),
        // r1 = &xsks: a 64-bit immediate over two slots, the second
        // holding the upper half (zero)
        Insn::new(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, map_fd),
        Insn::new(0, 0, 0, 0, 0),
        // r3 = XDP_PASS, the verdict when the queue has no socket
        Insn::new(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, XDP_PASS),
        // r0 = bpf_redirect_map(r1, r2, r3)
        Insn::new(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_REDIRECT_MAP),
        // return r0
        Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    ]
}

/// A program the verifier rejects (it returns `r0` without setting it),
/// to test that a rejection comes back with the verifier's log.
#[cfg(test)]
pub(crate) fn unset_return_value() -> [Insn; 1] {
    [Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn the_redirect_program_encodes_as_the_kernel_reads_it() {
        let program = redirect_to_xskmap(0x0102_0304);
        let bytes: Vec<[u8; 8]> = program.iter().map(|insn| insn.bytes()).collect();
        assert_eq!(
            bytes,
            [
                [0x61, 0x12, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00],
                [0x18, 0x11, 0x00, 0x00, 0x04, 0x03, 0x02, 0x01],
                [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
                [0xb7, 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00],
                [0x85, 0x00, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00],
                [0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            ]
        );
        assert_eq!(core::mem::size_of::<Insn>(), 8);
    }
}
