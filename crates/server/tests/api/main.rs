//! The server's integration tests: a real server on a loopback port, driven through the real
//! client, each test once on SQLite and once on PostgreSQL (test names end in `::sqlite` or
//! `::postgres`, so the output says which).

mod api_doc;
mod auth;
mod authz;
mod binary;
mod crash;
mod credentials;
mod diagnosis;
mod duplicates;
mod harness;
mod imports;
mod input;
mod instructions;
mod learner_account;
mod limits;
mod login_help;
mod mail;
mod messages;
mod pages;
mod smoke;
mod sync;
mod throttling;
