//! The route table: longest-prefix match over caller storage, both families.
