"""Java components of the stack, fetched from Maven Central by ``mvn`` into ``.state/cache``.

Each component pins its version in ``infra/<component>/pom.xml``; its jars land in
``.state/cache/<component>-<version>/libs`` once, marked complete only after the whole copy.
"""

import shutil
import subprocess
from pathlib import Path

from .config import StackConfig, pinned_version


class MavenComponent:
    def __init__(self, config: StackConfig, component: str) -> None:
        self.config = config
        self.component = component
        self.version = pinned_version(config.root, component)
        self.libs = config.cache / f"{component}-{self.version}" / "libs"

    def install(self) -> Path:
        """Fetch the component's jars (once per version); returns the folder that holds them."""
        marker = self.libs / ".complete"
        if marker.is_file():
            return self.libs
        if shutil.which("mvn") is None or shutil.which("java") is None:
            raise RuntimeError(f"{self.component} needs java (17+) and mvn; run infra/bin/setup")
        staging = self.libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run(  # noqa: S603
            [  # noqa: S607
                "mvn",
                "-B",
                "-q",
                "-f",
                str(self.config.root / "infra" / self.component / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staging}",
            ],
            check=True,
        )
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
        marker.write_text(self.version)
        return self.libs
