/** The example logfile of persistence.md §9, whole and compacted. */

// The §9 example of persistence.md without its torn tail.
export const EXAMPLE_LOG = [
  "RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  "SET backup.daily 1775008800000000000 planned",
  "RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  "SET backup.daily 1775008800000000000 triggered",
  "SET backup.daily 1775008800000000000 executed",
  'RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""',
  "SET report.q1 1775030400000000000 planned",
  "SET mail.welcome 1775030400000000000 failed",
  "REMOVE report.q1",
  "REMOVERULE rule.events",
].map((line) => `${line}\n`).join("");

export const EXAMPLE_COMPACTED = [
  "RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  'RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""',
  "SET backup.daily 1775008800000000000 executed",
  "SET mail.welcome 1775030400000000000 failed",
].map((line) => `${line}\n`).join("");
