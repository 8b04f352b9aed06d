"""`python -m services.kernel.events`: write the JSON Schema of every new event version.

Existing schema files are never rewritten: a published version is frozen. Change a payload by
registering a new version beside the old one.
"""

from services.kernel.events.registry import registered, schema_file, schema_text

if __name__ == "__main__":
    for event in registered():
        path = schema_file(event)
        if not path.exists():
            path.write_text(schema_text(event), encoding="utf-8")
            print(f"wrote {path.name}")
