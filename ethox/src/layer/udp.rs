//! The UDP layer: a port table in caller storage, zero-copy datagrams.
