// The CrossGuard pack: `npm run build && pulumi preview --policy-pack lib/policies/pulumi`.
import { PolicyPack } from "@pulumi/policy";
import { STRATUM_POLICIES } from "./policies";

new PolicyPack("stratum", { enforcementLevel: "mandatory", policies: STRATUM_POLICIES });
