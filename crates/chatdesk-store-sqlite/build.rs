//! Lists the migrations (`migrations/NNNN_name.sql`) for `src/migrate.rs`, so adding one is
//! adding its file.

use std::fmt::Write;

fn main() {
    let dir =
        std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let (version, description) = name.split_once('_').expect("migrations are NNNN_name.sql");
        let version: i64 = version.parse().expect("a migration's number");
        writeln!(
            out,
            "    Migration {{ version: {version}, description: {:?}, sql: include_str!({:?}) }},",
            description.replace('_', " "),
            path.display().to_string()
        )
        .unwrap();
    }
    out.push(']');
    let target = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(target, out).unwrap();
}
