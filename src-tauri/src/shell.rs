//! Start-up: settings, the app state, the background sync and the window.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use classkeys_app::{App, KeyringSecrets, SecretStore, UnavailableSecrets};
use tauri::Manager;

use crate::commands;

/// What the shell read from its environment at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server address the sign-in screen suggests.
    pub server_hint: Option<String>,
    /// How often the background sync runs.
    pub sync_interval: Duration,
    /// Whether the OS credential store passed its probe (`None`) or why not.
    pub credential_store_problem: Option<classkeys_app::AppError>,
    /// Save downloads here without asking (`CLASSKEYS_SAVE_DIR`).
    pub save_dir: Option<PathBuf>,
    /// Open this file without asking (`CLASSKEYS_OPEN_FILE`).
    pub open_file: Option<PathBuf>,
}

/// Background sync interval when `CLASSKEYS_SYNC_INTERVAL_SECS` is not set: often enough
/// that changes from colleagues show up while a teacher works, rare enough to cost nothing.
const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(30);

/// Builds the state and runs the app until its window closes.
pub fn run() -> tauri::Result<()> {
    tauri::Builder::default()
        // The save and open dialogs, used from Rust only: the window holds no dialog
        // permission.
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(commands::handler())
        .setup(|handle| {
            let data_dir = match std::env::var_os("CLASSKEYS_DATA_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => handle.path().app_data_dir()?,
            };
            let (secrets, problem): (Arc<dyn SecretStore>, _) = match KeyringSecrets::probe() {
                Ok(store) => (Arc::new(store), None),
                Err(why) => {
                    tracing::warn!(%why, "no credential store: sessions will not be kept");
                    (Arc::new(UnavailableSecrets::new(why.clone())), Some(why))
                }
            };
            let app = tauri::async_runtime::block_on(App::open(&data_dir, secrets))
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            let app = Arc::new(app);
            let settings = Settings {
                server_hint: std::env::var("CLASSKEYS_SERVER")
                    .ok()
                    .filter(|s| !s.trim().is_empty()),
                sync_interval: std::env::var("CLASSKEYS_SYNC_INTERVAL_SECS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .filter(|&s: &u64| s > 0)
                    .map_or(DEFAULT_SYNC_INTERVAL, Duration::from_secs),
                credential_store_problem: problem,
                save_dir: std::env::var_os("CLASSKEYS_SAVE_DIR")
                    .filter(|d| !d.is_empty())
                    .map(PathBuf::from),
                open_file: std::env::var_os("CLASSKEYS_OPEN_FILE")
                    .filter(|f| !f.is_empty())
                    .map(PathBuf::from),
            };
            tauri::async_runtime::spawn(sync_in_background(
                Arc::clone(&app),
                settings.sync_interval,
            ));
            handle.manage(app);
            handle.manage(settings);
            if let Some(window) = handle.get_webview_window("main") {
                lighten_webview(&window)?;
            }
            Ok(())
        })
        .build(tauri::generate_context!())?
        .run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                // Finish the replica's write-ahead log so the next start opens it at once.
                let app = handle.state::<Arc<App>>();
                tauri::async_runtime::block_on(app.close());
            }
        });
    Ok(())
}

/// Syncs every `interval` while someone is signed in. Failures only show in the status
/// line (which the UI polls); the changes wait in the outbox either way.
async fn sync_in_background(app: Arc<App>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if app.me().is_some() {
            let _ = app.sync_due().await;
        }
    }
}

/// On Linux, WebKitGTK renders through OpenGL by default, which costs the web process about
/// 90 MB of buffers (measured: 205 MB of PSS at the sign-in screen, 117 MB without). A
/// window of forms and tables scrolls just as well drawn on the CPU, so the app asks for
/// that, and for the caches of a single-document viewer (no back/forward page cache, small
/// resource caches): it never navigates anywhere else.
#[cfg(target_os = "linux")]
fn lighten_webview(window: &tauri::WebviewWindow) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn lighten_webview(_window: &tauri::WebviewWindow) -> tauri::Result<()> {
    Ok(())
}
