/// The release of Quill this code is, written in this one place: `quill --version` prints it, every store this code
/// opens for writing records it (`quill_versions`, see `docs/store.md`), and `scripts/package-deb.sh` names the
/// Debian package after it. `Tests/QuillStoreTests` checks its form; each release raises it.
public enum QuillVersion {
    /// Semantic version: major.minor.patch.
    public static let current = "0.19.0"
}
