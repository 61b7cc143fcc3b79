-- Parent access codes as the server last sent them, so a class's access codes show
-- offline. Each is sealed by the app under this device's key (XChaCha20-Poly1305, the key
-- in the OS credential store, bound to the account and the learner) before it is written
-- here, so the file alone gives nothing away. Passwords are never kept: revealing one needs
-- the server, which records who saw it.
CREATE TABLE parent_code (
    learner_id TEXT PRIMARY KEY REFERENCES learner (id) ON DELETE CASCADE,
    sealed     TEXT NOT NULL
) STRICT, WITHOUT ROWID;
