import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { README_FILE, SCHEMA_FILE, schemaFileText } from "../../scripts/config-docs.js";
import { readmeWithReference } from "../../src/config/reference.js";

// What `npm run config:docs` writes from the declarations must be what is committed.
describe("the files generated from the settings' declaration", () => {
  it("schema/dfs-config.schema.json is up to date (npm run config:docs)", async () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(await schemaFileText());
  });

  it("README.md's settings reference is up to date (npm run config:docs)", () => {
    const readme = readFileSync(README_FILE, "utf8");
    expect(readme).toBe(readmeWithReference(readme));
  });

  it("the schema is draft 2020-12 and closed: an unknown key is invalid", () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as {
      $schema: string;
      additionalProperties: boolean;
      properties: { nfs: { additionalProperties: boolean; properties: { leaseTimeSec: object } } };
    };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.nfs.additionalProperties).toBe(false);
    expect(schema.properties.nfs.properties.leaseTimeSec).toMatchObject({
      type: "integer",
      minimum: 1,
      default: 90,
    });
  });
});
