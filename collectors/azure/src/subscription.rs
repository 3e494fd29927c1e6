//! Reading one subscription: which calls, in which order, and what each gives.
//!
//! Every response body is kept as evidence (secrets masked, see
//! [`evidra_collector_files::azure::mask_json`]); every complete listing is an observation;
//! every failed read is a gap naming the record types it would have given.

use std::collections::{BTreeMap, BTreeSet};

use evidra_collector_core::{Batch, Evidence, EvidenceSource, Gap, Observation, Scope, TokenBucket};
use evidra_collector_files::azure::{self, mask_json};
use reqwest::{Method, Url};
use serde_json::{Value, json};

use crate::arm::{ArmClient, ArmError, Fetched, operation_of};
use crate::credential::Audience;

// api-versions, one per documented path (Azure REST API specifications, stable versions).
pub const API_SUBSCRIPTIONS: &str = "2022-12-01";
const API_RESOURCES: &str = "2021-04-01";
const API_LOCKS: &str = "2020-05-01";
const API_STORAGE: &str = "2023-05-01";
const API_NETWORK: &str = "2024-05-01";
const API_KEYVAULT: &str = "2023-07-01";
const API_SQL: &str = "2021-11-01";
const API_COMPUTE: &str = "2024-07-01";
const API_DISKS: &str = "2024-03-02";
const API_DIAGNOSTIC_SETTINGS: &str = "2021-05-01-preview";
const API_POLICY: &str = "2023-04-01";
const API_POLICY_INSIGHTS: &str = "2019-10-01";
const API_AUTHORIZATION: &str = "2022-04-01";

pub const ARM_COLLECTOR: &str = "azure.arm";
const GRAPH_COLLECTOR: &str = "azure.graph";

/// The listings read with one paged call per subscription, properties included.
const TYPED_LISTS: [(&str, &str, &str); 6] = [
    ("Microsoft.Storage/storageAccounts", API_STORAGE, azure::STORAGE_ACCOUNT),
    ("Microsoft.Network/networkSecurityGroups", API_NETWORK, azure::NSG),
    ("Microsoft.KeyVault/vaults", API_KEYVAULT, azure::KEY_VAULT),
    ("Microsoft.Compute/virtualMachines", API_COMPUTE, azure::VM),
    ("Microsoft.Compute/disks", API_DISKS, azure::DISK),
    // The subscription's own diagnostic settings: where its activity log goes.
    (
        "Microsoft.Insights/diagnosticSettings",
        API_DIAGNOSTIC_SETTINGS,
        azure::DIAGNOSTIC_SETTING,
    ),
];

/// An item of a listing and the evidence (page) it came from.
type Item = (Value, String);

/// Reads, paces and records for one scope (a subscription, or the tenant's listing).
pub struct Reader<'a> {
    pub client: &'a ArmClient,
    pub limiter: &'a TokenBucket,
    pub scope: Scope,
    pub collected_at: String,
    pub batch: Batch,
}

impl<'a> Reader<'a> {
    pub fn new(client: &'a ArmClient, limiter: &'a TokenBucket, scope: Scope, collected_at: &str) -> Self {
        Self {
            client,
            limiter,
            scope,
            collected_at: collected_at.to_owned(),
            batch: Batch::default(),
        }
    }

    /// Keeps a response as evidence, secrets masked; returns its hash and the masked JSON.
    fn keep(&mut self, collector: &str, fetched: &Fetched) -> (String, Option<Value>) {
        let masked = mask_json(&fetched.body);
        let parsed = serde_json::from_slice(&masked.bytes).ok();
        let evidence = Evidence::new(
            EvidenceSource {
                collector: collector.into(),
                operation: fetched.operation.clone(),
                scope: self.scope.to_string(),
            },
            self.collected_at.clone(),
            masked.media_type(&fetched.content_type),
            masked.bytes,
        );
        let sha = evidence.sha256.clone();
        if !self
            .batch
            .evidence
            .iter()
            .any(|e| e.sha256 == sha && e.source == evidence.source)
        {
            self.batch.evidence.push(evidence);
        }
        (sha, parsed)
    }

    pub fn gap(&mut self, collector: &str, operation: &str, error: &ArmError, types: &[&str]) {
        if let Some(response) = error.response() {
            let response = response.clone();
            self.keep(collector, &response);
        }
        self.batch.gaps.push(Gap {
            collector: collector.into(),
            scope: self.scope.clone(),
            operation: operation.to_owned(),
            error: error.to_string(),
            resource_types: types.iter().map(|t| (*t).to_owned()).collect(),
        });
    }

    pub fn observe(&mut self, resource_type: &str, evidence: impl IntoIterator<Item = String>) {
        let evidence: BTreeSet<String> = evidence.into_iter().collect();
        self.batch.observations.push(Observation {
            scope: self.scope.clone(),
            resource_type: resource_type.to_owned(),
            evidence: evidence.into_iter().collect(),
        });
    }

    pub fn push(&mut self, resource_type: &str, object: Value, evidence: Vec<String>) {
        if let Some(record) = azure::record(&self.scope.account, resource_type, object, evidence) {
            self.batch.resources.push(record);
        }
    }

    /// Every page of a `value`/`nextLink` listing. Err: the listing is incomplete (what
    /// was read is kept as evidence; the error names the page that failed).
    pub async fn list(
        &mut self,
        audience: Audience,
        method: Method,
        first: Url,
    ) -> Result<(Vec<Item>, Vec<String>), (String, ArmError)> {
        let collector = match audience {
            Audience::ResourceManager => ARM_COLLECTOR,
            Audience::Graph => GRAPH_COLLECTOR,
        };
        let mut items = Vec::new();
        let mut pages = Vec::new();
        let mut url = first;
        let mut seen = BTreeSet::new();
        loop {
            let operation = operation_of(&method, &url);
            let fetched = match self
                .client
                .send(self.limiter, audience, method.clone(), url.clone(), None)
                .await
            {
                Ok(Some(fetched)) => fetched,
                Ok(None) => {
                    return Err((
                        operation,
                        ArmError::Credential("the credential gives no token for this API".into()),
                    ));
                }
                Err(e) => return Err((operation, e)),
            };
            let (sha, parsed) = self.keep(collector, &fetched);
            pages.push(sha.clone());
            let Some(Value::Object(page)) = parsed else {
                return Err((
                    operation,
                    ArmError::Malformed("the response is not a JSON object".into()),
                ));
            };
            match page.get("value") {
                Some(Value::Array(values)) => items.extend(values.iter().map(|v| (v.clone(), sha.clone()))),
                _ => {
                    return Err((
                        operation,
                        ArmError::Malformed("the response has no `value` array".into()),
                    ));
                }
            }
            let next = page
                .get("nextLink")
                .or_else(|| page.get("@odata.nextLink"))
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            let Some(next) = next else { break };
            url = self
                .client
                .next_url(audience, next)
                .map_err(|e| (operation.clone(), e))?;
            if !seen.insert(url.to_string()) {
                return Err((
                    operation,
                    ArmError::Malformed(format!("nextLink {next} repeats an earlier page")),
                ));
            }
        }
        Ok((items, pages))
    }

    /// One ARM object by GET. `Ok(None)`: 404, there is none (when `absent_ok`; else a
    /// 404 is an error like any other).
    async fn get(&mut self, url: Url, absent_ok: bool) -> Result<Option<Item>, (String, ArmError)> {
        let operation = operation_of(&Method::GET, &url);
        match self
            .client
            .send(self.limiter, Audience::ResourceManager, Method::GET, url, None)
            .await
        {
            Ok(Some(fetched)) => {
                let (sha, parsed) = self.keep(ARM_COLLECTOR, &fetched);
                match parsed {
                    Some(value @ Value::Object(_)) => Ok(Some((value, sha))),
                    _ => Err((
                        operation,
                        ArmError::Malformed("the response is not a JSON object".into()),
                    )),
                }
            }
            Ok(None) => Err((operation, ArmError::Credential("no token".into()))),
            Err(e) if absent_ok && e.status() == Some(404) => {
                // ARM's 404 body says why (ResourceNotFound); it is the evidence of "none".
                if let Some(response) = e.response() {
                    let response = response.clone();
                    self.keep(ARM_COLLECTOR, &response);
                }
                Ok(None)
            }
            Err(e) => Err((operation, e)),
        }
    }

    fn arm(&self, path: &str, api_version: &str) -> Url {
        self.client.arm_url(path, api_version, &[])
    }

    /// A listing of one record type: records, and an observation when it is complete.
    async fn list_type(&mut self, path: &str, api_version: &str, resource_type: &str) -> Option<Vec<Item>> {
        let url = self.arm(path, api_version);
        match self.list(Audience::ResourceManager, Method::GET, url).await {
            Ok((items, pages)) => {
                for (object, sha) in &items {
                    self.push(resource_type, object.clone(), vec![sha.clone()]);
                }
                self.observe(resource_type, pages);
                Some(items)
            }
            Err((operation, e)) => {
                self.gap(ARM_COLLECTOR, &operation, &e, &[resource_type]);
                None
            }
        }
    }
}

/// Reads one subscription. `subscription` is its ARM object when the tenant listing gave
/// it (with the listing page's hash), else it is read here first.
pub async fn collect(reader: &mut Reader<'_>, subscription: Option<Item>) {
    let id = reader.scope.account.clone();
    let base = format!("/subscriptions/{id}");

    let subscription = match subscription {
        Some(item) => Some(item),
        // A configured subscription that is gone or invisible (404 SubscriptionNotFound)
        // is a gap, as a forbidden one is.
        None => match reader.get(reader.arm(&base, API_SUBSCRIPTIONS), false).await {
            Ok(item) => item,
            Err((operation, e)) => {
                reader.gap(ARM_COLLECTOR, &operation, &e, &["*"]);
                return;
            }
        },
    };
    if let Some((object, sha)) = subscription {
        reader.push(azure::SUBSCRIPTION, object, vec![sha.clone()]);
        reader.observe(azure::SUBSCRIPTION, [sha]);
    }

    // Resource groups first: a subscription the credential cannot read at all (no role
    // on it, 401/403, or gone, 404) is one gap covering every Azure control there,
    // rather than a dozen failed calls.
    let url = reader.arm(&format!("{base}/resourcegroups"), API_RESOURCES);
    match reader.list(Audience::ResourceManager, Method::GET, url).await {
        Ok((items, pages)) => {
            for (object, sha) in items {
                reader.push(azure::GROUP, object, vec![sha]);
            }
            reader.observe(azure::GROUP, pages);
        }
        Err((operation, e)) if matches!(e.status(), Some(401 | 403 | 404)) => {
            reader.gap(ARM_COLLECTOR, &operation, &e, &["*"]);
            return;
        }
        Err((operation, e)) => reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::GROUP]),
    }

    reader
        .list_type(&format!("{base}/resources"), API_RESOURCES, azure::RESOURCE)
        .await;
    // All locks of the subscription, at every level (subscription, groups, resources).
    reader
        .list_type(
            &format!("{base}/providers/Microsoft.Authorization/locks"),
            API_LOCKS,
            azure::LOCK,
        )
        .await;
    for (provider_type, api, record_type) in TYPED_LISTS {
        reader
            .list_type(&format!("{base}/providers/{provider_type}"), api, record_type)
            .await;
    }
    sql(reader, &base).await;
    policy(reader, &base).await;
    roles(reader, &base).await;
}

/// SQL servers with their auditing settings, and their databases with TDE. Auditing and
/// TDE have no list-by-subscription call: one GET per server and per database.
async fn sql(reader: &mut Reader<'_>, base: &str) {
    let url = reader.arm(&format!("{base}/providers/Microsoft.Sql/servers"), API_SQL);
    let (servers, pages) = match reader.list(Audience::ResourceManager, Method::GET, url).await {
        Ok(listed) => listed,
        Err((operation, e)) => {
            reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::SQL_SERVER, azure::SQL_DATABASE]);
            return;
        }
    };
    reader.observe(azure::SQL_SERVER, pages);
    let mut databases_complete = true;
    let mut database_pages = Vec::new();
    for (mut server, sha) in servers {
        let Some(server_id) = server.get("id").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let mut evidence = vec![sha];
        match reader
            .get(
                reader.arm(&format!("{server_id}/auditingSettings/default"), API_SQL),
                true,
            )
            .await
        {
            Ok(found) => {
                let auditing = match found {
                    Some((value, sha)) => {
                        evidence.push(sha);
                        value
                    }
                    None => Value::Null,
                };
                if let Some(object) = server.as_object_mut() {
                    object.insert("auditing".into(), auditing);
                }
            }
            // `auditing` stays absent: the rule reads that as not collected.
            Err((operation, e)) => reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::SQL_SERVER]),
        }
        reader.push(azure::SQL_SERVER, server, evidence);

        let url = reader.arm(&format!("{server_id}/databases"), API_SQL);
        let databases = match reader.list(Audience::ResourceManager, Method::GET, url).await {
            Ok((items, pages)) => {
                database_pages.extend(pages);
                items
            }
            Err((operation, e)) => {
                databases_complete = false;
                reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::SQL_DATABASE]);
                continue;
            }
        };
        for (mut database, sha) in databases {
            let Some(database_id) = database.get("id").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            let mut evidence = vec![sha];
            // master's encryption is the service's and has no setting of its own (the
            // control says not_applicable): not worth a call.
            let master = database
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("master"));
            if !master {
                let url = reader.arm(&format!("{database_id}/transparentDataEncryption/current"), API_SQL);
                match reader.get(url, true).await {
                    Ok(found) => {
                        let tde = match found {
                            Some((value, sha)) => {
                                evidence.push(sha);
                                value
                            }
                            None => Value::Null,
                        };
                        if let Some(object) = database.as_object_mut() {
                            object.insert("transparent_data_encryption".into(), tde);
                        }
                    }
                    Err((operation, e)) => reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::SQL_DATABASE]),
                }
            }
            reader.push(azure::SQL_DATABASE, database, evidence);
        }
    }
    if databases_complete {
        reader.observe(azure::SQL_DATABASE, database_pages);
    }
}

/// Policy assignments (at the subscription, inherited from management groups, and on
/// what it contains), each with its Policy Insights compliance summary.
async fn policy(reader: &mut Reader<'_>, base: &str) {
    let url = reader.arm(
        &format!("{base}/providers/Microsoft.Authorization/policyAssignments"),
        API_POLICY,
    );
    let (assignments, pages) = match reader.list(Audience::ResourceManager, Method::GET, url).await {
        Ok(listed) => listed,
        Err((operation, e)) => {
            reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::POLICY_ASSIGNMENT]);
            return;
        }
    };
    reader.observe(azure::POLICY_ASSIGNMENT, pages);

    // One summarize call for the whole subscription (a read-only POST).
    let url = reader.arm(
        &format!("{base}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize"),
        API_POLICY_INSIGHTS,
    );
    let summary: Option<(BTreeMap<String, Value>, Vec<String>)> =
        match reader.list(Audience::ResourceManager, Method::POST, url).await {
            Ok((items, pages)) => {
                let mut by_assignment = BTreeMap::new();
                for (summary, _) in &items {
                    for entry in summary
                        .get("policyAssignments")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(id) = entry.get("policyAssignmentId").and_then(Value::as_str) {
                            by_assignment.insert(id.to_ascii_lowercase(), entry.clone());
                        }
                    }
                }
                Some((by_assignment, pages))
            }
            // Compliance is context for the rule (an assignment is judged without it):
            // the gap is reported, but hurts no control.
            Err((operation, e)) => {
                reader.gap(ARM_COLLECTOR, &operation, &e, &[]);
                None
            }
        };
    for (mut assignment, sha) in assignments {
        let mut evidence = vec![sha];
        if let Some((by_assignment, pages)) = &summary {
            let id = assignment
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let compliance = by_assignment.get(&id).cloned().unwrap_or(Value::Null);
            evidence.extend(pages.iter().cloned());
            if let Some(object) = assignment.as_object_mut() {
                object.insert("compliance".into(), compliance);
            }
        }
        reader.push(azure::POLICY_ASSIGNMENT, assignment, evidence);
    }
}

/// Role assignments, with each role's name (from the role definitions) and each
/// principal's name (from Microsoft Graph, when the credential can read it).
async fn roles(reader: &mut Reader<'_>, base: &str) {
    let url = reader.arm(
        &format!("{base}/providers/Microsoft.Authorization/roleAssignments"),
        API_AUTHORIZATION,
    );
    let (assignments, pages) = match reader.list(Audience::ResourceManager, Method::GET, url).await {
        Ok(listed) => listed,
        Err((operation, e)) => {
            reader.gap(ARM_COLLECTOR, &operation, &e, &[azure::ROLE_ASSIGNMENT]);
            return;
        }
    };
    reader.observe(azure::ROLE_ASSIGNMENT, pages);

    // Role names are context: without them the rules fall back on the built-in roles'
    // fixed definition IDs, so a failure here hurts no control.
    let url = reader.arm(
        &format!("{base}/providers/Microsoft.Authorization/roleDefinitions"),
        API_AUTHORIZATION,
    );
    let mut role_names: BTreeMap<String, (String, String)> = BTreeMap::new();
    match reader.list(Audience::ResourceManager, Method::GET, url).await {
        Ok((definitions, _)) => {
            for (definition, sha) in definitions {
                let guid = definition.get("name").and_then(Value::as_str);
                let name = definition.pointer("/properties/roleName").and_then(Value::as_str);
                if let (Some(guid), Some(name)) = (guid, name) {
                    role_names.insert(guid.to_ascii_lowercase(), (name.to_owned(), sha));
                }
            }
        }
        Err((operation, e)) => reader.gap(ARM_COLLECTOR, &operation, &e, &[]),
    }

    let principals: BTreeSet<String> = assignments
        .iter()
        .filter_map(|(a, _)| a.pointer("/properties/principalId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let names = principal_names(reader, principals).await;

    for (mut assignment, sha) in assignments {
        let mut evidence = vec![sha];
        let definition = assignment
            .pointer("/properties/roleDefinitionId")
            .and_then(Value::as_str)
            .and_then(|d| d.rsplit('/').next())
            .map(str::to_ascii_lowercase);
        let principal = assignment
            .pointer("/properties/principalId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(object) = assignment.as_object_mut() {
            if let Some((name, sha)) = definition.and_then(|d| role_names.get(&d)) {
                object.insert("role_name".into(), json!(name));
                evidence.push(sha.clone());
            }
            if let Some((name, sha)) = principal.and_then(|p| names.get(&p)) {
                object.insert("principal_name".into(), json!(name));
                evidence.push(sha.clone());
            }
        }
        reader.push(azure::ROLE_ASSIGNMENT, assignment, evidence);
    }
}

/// Principal names from Microsoft Graph (`directoryObjects/getByIds`): a user's UPN
/// (a guest's carries `#EXT#`), a group's or application's display name. Needs a Graph
/// token and a directory read permission; without them the names stay unknown, and the
/// rules say so for the assignments that need one.
async fn principal_names(reader: &mut Reader<'_>, principals: BTreeSet<String>) -> BTreeMap<String, (String, String)> {
    let mut names = BTreeMap::new();
    let ids: Vec<String> = principals.into_iter().collect();
    // getByIds takes at most 1000 IDs per request.
    for chunk in ids.chunks(1000) {
        let url = reader.client.graph_url("/v1.0/directoryObjects/getByIds");
        let operation = operation_of(&Method::POST, &url);
        let body = json!({"ids": chunk, "types": ["user", "group", "servicePrincipal"]});
        let fetched = match reader
            .client
            .send(reader.limiter, Audience::Graph, Method::POST, url, Some(&body))
            .await
        {
            Ok(Some(fetched)) => fetched,
            Ok(None) => return names,
            Err(e) => {
                reader.gap(GRAPH_COLLECTOR, &operation, &e, &[]);
                return names;
            }
        };
        let (sha, parsed) = reader.keep(GRAPH_COLLECTOR, &fetched);
        for object in parsed
            .as_ref()
            .and_then(|p| p.get("value"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = object.get("id").and_then(Value::as_str) else {
                continue;
            };
            let name = object
                .get("userPrincipalName")
                .and_then(Value::as_str)
                .or_else(|| object.get("displayName").and_then(Value::as_str));
            if let Some(name) = name {
                names.insert(id.to_owned(), (name.to_owned(), sha.clone()));
            }
        }
    }
    names
}
