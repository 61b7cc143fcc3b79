//! Builds the Tauri context and the app manifest: every command the UI may call is listed
//! in `src/command_names.rs`, so each gets an `allow-…` permission and nothing else is
//! callable unless a capability grants it (DESIGN §7).

include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/command_names.rs");
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("the Tauri build step failed");
}
