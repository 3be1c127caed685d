/** The config file of the command-line tests. */

/** Writes a config file listening on a free port with its logfile in `dir`. */
export async function writeConfig(
  dir: string,
  extra = "",
  listen = "127.0.0.1:0",
): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    `[controller]\nlisten = "${listen}"\n[database]\nlogfile_path = "${dir}/logfile"\n${extra}`,
  );
  return path;
}
