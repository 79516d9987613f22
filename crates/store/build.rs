//! Rebuild when a migration is added: `sqlx::migrate!` embeds the directories' files at compile
//! time, and cargo would not otherwise notice a new one.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
