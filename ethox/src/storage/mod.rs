//! Byte storage over caller memory: rings and out-of-order assemblers.

pub mod assembler;
pub mod ring;
