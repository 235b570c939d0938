//! The mailgun signature parser and verifier; see `hookline_fuzz::fuzz_verify`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hookline_fuzz::fuzz_verify(Some("mailgun"), data));
