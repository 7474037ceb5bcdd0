// The per-cluster half of the web app: the CronJob and the
// TargetGroupBinding of this directory's plain YAML, with the values the
// ApplicationSet passes from the cluster secret (Argo CD directory source,
// jsonnet extVars). Argo CD evaluates jsonnet itself; the plain files are
// excluded from the directory source so that each object is applied once.
local cron = std.parseYaml(importstr 'cronjob.yaml');
local tgb = std.parseYaml(importstr 'targetgroupbinding.yaml');
local arn = std.extVar('targetGroupARN');
[cron { spec+: { suspend: std.extVar('singletons') != 'active' } }] +
(if arn == '' then [] else [tgb { spec+: { targetGroupARN: arn } }])
