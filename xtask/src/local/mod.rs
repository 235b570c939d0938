//! Commands that talk to the local stack: `dev` runs it, `send` posts to it, `dlq` looks at its
//! dead-letter queues (or, with `--stage`, at a deployed stage's).

pub mod dev;
pub mod dlq;
pub mod send;
