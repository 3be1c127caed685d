/** The mount probe and a GET shared by the durability tests. */
import { converse } from "../_helpers/client.ts";
import { probeMount } from "../_helpers/fs.ts";

export const MOUNT_PROBLEM = probeMount();
export const ENCODER = new TextEncoder();
export async function get(port: number, jobId: string): Promise<string> {
  return (await converse(port, `g GET ${jobId}\n`)).trimEnd();
}
