// The one way the UI talks to the Rust side: `call(command, args)`.
//
// Every command answers either its value or throws an `AppError` carrying the closed
// `code` the Rust side chose (see crates/app/src/error.rs) and a `message` that says what
// to do next. Screens switch on `code`, never on the message text.

export class AppError extends Error {
  constructor(code, message) {
    super(sentence(message));
    this.code = code;
  }
}

// The Rust side words its messages like error messages ("could not reach the server at …:
// check the network"); on screen they read as sentences.
export function sentence(message) {
  const text = String(message ?? '').trim();
  if (text === '') return text;
  const capitalised = text[0].toLocaleUpperCase() + text.slice(1);
  return /[.!?…]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

const invoke = window.__TAURI__?.core?.invoke;

export async function call(command, args = {}) {
  if (!invoke) {
    throw new AppError('internal', 'ClassKeys must be opened as the desktop app, not in a browser.');
  }
  try {
    return await invoke(command, args);
  } catch (e) {
    if (e && typeof e === 'object' && typeof e.code === 'string') {
      throw new AppError(e.code, String(e.message ?? ''));
    }
    throw new AppError('internal', `The app failed unexpectedly (${String(e)}). Try again; if it keeps happening, restart ClassKeys.`);
  }
}
