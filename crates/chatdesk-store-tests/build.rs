//! Finds every contract case (`pub async fn name(store: Arc<dyn Store>)` in `src/cases/`) and
//! writes the list `contract_tests!` expands to, so no list is kept by hand.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new("src/cases");
    println!("cargo:rerun-if-changed=src/cases");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("src/cases")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let (mut each, mut one_thread) = (Vec::new(), Vec::new());
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(&file).expect("a case file");
        let mut single = false;
        for line in text.lines() {
            if line.trim() == "// contract: one thread" {
                single = true;
                continue;
            }
            let Some(rest) = line.strip_prefix("pub async fn ") else {
                if !line.starts_with("///") && !line.starts_with("#[") {
                    single = false;
                }
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if single {
                one_thread.push(name);
            } else {
                each.push(name);
            }
            single = false;
        }
    }
    let mut out = String::new();
    writeln!(out, "/// Every contract case, as `$make`'s tests.").unwrap();
    writeln!(out, "#[macro_export]\nmacro_rules! contract_tests {{").unwrap();
    writeln!(out, "    ($make:path) => {{").unwrap();
    writeln!(
        out,
        "        $crate::contract_tests!(@each $make; {});",
        each.join(", ")
    )
    .unwrap();
    writeln!(
        out,
        "        $crate::contract_tests!(@one_thread $make; {});",
        one_thread.join(", ")
    )
    .unwrap();
    writeln!(out, "    }};").unwrap();
    out.push_str(
        r#"    // Cases whose sends must all queue before the committer runs again.
    (@one_thread $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "current_thread")]
            async fn $case() {
                $crate::run($make, $crate::cases::$case).await;
            }
        )*
    };
    (@each $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::run($make, $crate::cases::$case).await;
            }
        )*
    };
}
"#,
    );
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("contract_tests.rs");
    std::fs::write(target, out).expect("write the case list");
}
