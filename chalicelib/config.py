"""Settings read once from the environment (DESIGN 3.6); secrets never come from code or the repo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

PRODUCTION_STAGES = frozenset({"prod", "production"})


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    public_base_url: str
    admin_api_key: str
    region: str

    @property
    def is_production(self) -> bool:
        return self.stage.lower() in PRODUCTION_STAGES


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings; tests call `settings.cache_clear()` after changing the environment."""
    env = os.environ
    return Settings(
        stage=env.get("STAGE", "local"),
        table_name=env.get("TABLE_NAME", "porchlight-local"),
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        admin_api_key=env.get("ADMIN_API_KEY", ""),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
