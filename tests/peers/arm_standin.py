"""A local stand-in for Azure Resource Manager (and the two other Azure endpoints evidra
talks to: Microsoft Graph's directoryObjects/getByIds, and Entra ID's token endpoint).

No offline Resource Manager emulator exists, so this speaks ARM's wire format for the
paths evidra reads, as the Azure REST API specifications document them:

- documented paths (matched case-insensitively, as ARM does) and their api-versions: a
  missing or unknown api-version gets ARM's 400 (MissingApiVersionParameter,
  InvalidApiVersionParameter / NoRegisteredProviderFound);
- `{"value": [...], "nextLink": "..."}` paging with `$skiptoken`, `page_size` items a page;
- ARM error bodies `{"error": {"code", "message"}}`: 401 InvalidAuthenticationToken
  without a known bearer token, 403 AuthorizationFailed on a `forbidden` subscription,
  404 ResourceNotFound / SubscriptionNotFound;
- 429 with `Retry-After` for the first `n` requests of a `throttle` path.

The estate it serves is built below: one subscription with good and bad resources for
every Azure control, and a second one (a 403 when listed in `forbidden`).

Usage: python arm_standin.py PORT CONFIG.json LOG.jsonl [CERT.pem KEY.pem]
CONFIG: {"tokens": [...], "graph_tokens": [...], "page_size": 2, "forbidden": [sub],
         "throttle": {"/lower/case/path": n}, "retry_after": 1,
         "client": {"tenant", "client_id", "client_secret" or "assertion", "access_token"},
         "msi": {"header", "access_token"}, "secrets": {...}}
With CERT and KEY it serves HTTPS (the token endpoint must be HTTPS for azure_identity).
It listens on 127.0.0.1 only and logs every request (no headers) to LOG as JSON lines.
"""

import json
import re
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CONFIG, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TLS = sys.argv[4:6] if len(sys.argv) >= 6 else None
with open(CONFIG) as f:
    config = json.load(f)
PAGE = int(config.get("page_size", 2))
lock = threading.Lock()
throttled = {}

SUB_A = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
SUB_B = "7d2c3f44-9a8e-4f1b-b0c5-1e2f3a4b5c6d"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRETS = config.get("secrets", {})

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
ISO27001_2022 = "5e4ff661-23bf-42fa-8e3a-309a55091cc7"

# api-versions each documented path accepts (a subset of the real ones, including the
# ones evidra uses).
API = {
    "subscriptions": ["2016-06-01", "2020-01-01", "2022-12-01"],
    "resources": ["2021-04-01", "2022-09-01"],
    "locks": ["2016-09-01", "2020-05-01"],
    "storage": ["2023-01-01", "2023-05-01"],
    "network": ["2023-09-01", "2024-05-01"],
    "keyvault": ["2022-07-01", "2023-07-01"],
    "sql": ["2021-11-01", "2023-08-01"],
    "compute": ["2024-03-01", "2024-07-01"],
    "disks": ["2023-04-02", "2024-03-02"],
    "insights": ["2021-05-01-preview"],
    "policy": ["2022-06-01", "2023-04-01"],
    "policyinsights": ["2019-10-01"],
    "authorization": ["2022-04-01"],
}


def rid(sub, group, provider_type, name):
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/{provider_type}/{name}"


def arm(sub, group, provider_type, name, location="westeurope", tags=None, properties=None, **extra):
    obj = {"id": rid(sub, group, provider_type, name), "name": name, "type": provider_type, "location": location}
    if tags is not None:
        obj["tags"] = tags
    obj.update(extra)
    if properties is not None:
        obj["properties"] = properties
    return obj


def estate(sub):
    """Every ARM object of the subscription, by kind."""
    s = sub
    good = {"owner": "data-team", "data-classification": "confidential"}
    e = {}
    e["subscription"] = {
        "id": f"/subscriptions/{s}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s,
        "tenantId": TENANT,
        "displayName": "Contoso Production" if s == SUB_A else "Contoso Sandbox",
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
    }
    e["groups"] = [
        {"id": f"/subscriptions/{s}/resourceGroups/rg-prod-data", "name": "rg-prod-data", "type": "Microsoft.Resources/resourceGroups",
         "location": "westeurope", "tags": {"environment": "production", **good}, "properties": {"provisioningState": "Succeeded"}},
        {"id": f"/subscriptions/{s}/resourceGroups/rg-prod-web", "name": "rg-prod-web", "type": "Microsoft.Resources/resourceGroups",
         "location": "westeurope", "tags": {"env": "prod", "owner": "web-team"}, "properties": {"provisioningState": "Succeeded"}},
        {"id": f"/subscriptions/{s}/resourceGroups/rg-dev", "name": "rg-dev", "type": "Microsoft.Resources/resourceGroups",
         "location": "westeurope", "tags": {"environment": "dev"}, "properties": {"provisioningState": "Succeeded"}},
    ]
    e["locks"] = [
        {"id": f"/subscriptions/{s}/resourceGroups/rg-prod-data/providers/Microsoft.Authorization/locks/no-delete",
         "name": "no-delete", "type": "Microsoft.Authorization/locks",
         "properties": {"level": "CanNotDelete", "notes": "production data", "owners": []}},
        {"id": rid(s, "rg-dev", "Microsoft.Storage/storageAccounts", "stdev01") + "/providers/Microsoft.Authorization/locks/read-only",
         "name": "read-only", "type": "Microsoft.Authorization/locks", "properties": {"level": "ReadOnly"}},
    ]
    storage = "Microsoft.Storage/storageAccounts"
    sas = SECRETS.get("sas_sig", "")
    e["storage"] = [
        arm(s, "rg-prod-data", storage, "stproddata01", tags=good, sku={"name": "Standard_GRS", "tier": "Standard"}, kind="StorageV2",
            properties={"supportsHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                        "allowSharedKeyAccess": False, "publicNetworkAccess": "Enabled",
                        "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24", "action": "Allow"}], "virtualNetworkRules": []},
                        "encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True,
                                       "services": {"blob": {"enabled": True, "keyType": "Account"}}},
                        "primaryEndpoints": {"blob": "https://stproddata01.blob.core.windows.net/"}, "provisioningState": "Succeeded"}),
        arm(s, "rg-prod-web", storage, "stlegacyweb", tags={"owner": "web-team",
            "export-url": f"https://stlegacyweb.blob.core.windows.net/exports?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=c&sp=rl&sig={sas}"},
            sku={"name": "Standard_LRS", "tier": "Standard"}, kind="StorageV2",
            properties={"supportsHttpsTrafficOnly": False, "minimumTlsVersion": "TLS1_0", "allowBlobPublicAccess": True,
                        "publicNetworkAccess": "Enabled", "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []},
                        "encryption": {"keySource": "Microsoft.Storage"}, "provisioningState": "Succeeded"}),
        arm(s, "rg-dev", storage, "stdev01", tags={"owner": "dev-team", "classification": "internal"}, sku={"name": "Standard_LRS"}, kind="StorageV2",
            properties={"supportsHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                        "publicNetworkAccess": "Disabled", "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"},
                        "provisioningState": "Succeeded"}),
    ]
    nsg = "Microsoft.Network/networkSecurityGroups"

    def rule(nsg_id, name, priority, source, port, access="Allow"):
        return {"name": name, "id": f"{nsg_id}/securityRules/{name}", "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": source,
                               "destinationAddressPrefix": "*", "access": access, "priority": priority, "direction": "Inbound",
                               "provisioningState": "Succeeded"}}
    web = rid(s, "rg-prod-web", nsg, "nsg-web")
    data = rid(s, "rg-prod-data", nsg, "nsg-data")
    e["nsg"] = [
        arm(s, "rg-prod-web", nsg, "nsg-web", tags={"owner": "web-team"}, etag='W/"1"',
            properties={"securityRules": [rule(web, "allow-https", 100, "Internet", "443"), rule(web, "allow-ssh-anywhere", 110, "*", "22")],
                        "defaultSecurityRules": [], "provisioningState": "Succeeded"}),
        arm(s, "rg-prod-data", nsg, "nsg-data", tags=good,
            properties={"securityRules": [rule(data, "allow-ssh-corp", 100, "10.0.0.0/8", "22"), rule(data, "allow-rdp-bastion", 110, "VirtualNetwork", "3389")],
                        "defaultSecurityRules": [], "provisioningState": "Succeeded"}),
    ]
    kv = "Microsoft.KeyVault/vaults"
    e["vaults"] = [
        arm(s, "rg-prod-data", kv, "kv-prod-data", tags=good,
            properties={"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "accessPolicies": [], "enableSoftDelete": True,
                        "softDeleteRetentionInDays": 90, "enablePurgeProtection": True, "enableRbacAuthorization": True,
                        "vaultUri": "https://kv-prod-data.vault.azure.net/", "publicNetworkAccess": "Disabled", "provisioningState": "Succeeded"}),
        arm(s, "rg-prod-web", kv, "kv-legacy", tags={"owner": "web-team"},
            properties={"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableSoftDelete": False, "enableRbacAuthorization": False,
                        "accessPolicies": [{"tenantId": TENANT, "objectId": "9a1b2c3d-0000-4000-8000-00000000000a",
                                            "permissions": {"keys": ["get"], "secrets": ["get", "list"], "certificates": []}}],
                        "vaultUri": "https://kv-legacy.vault.azure.net/", "provisioningState": "Succeeded"}),
    ]
    sql = "Microsoft.Sql/servers"
    prod, legacy = rid(s, "rg-prod-data", sql, "sql-prod"), rid(s, "rg-prod-web", sql, "sql-legacy")
    e["sql"] = [
        arm(s, "rg-prod-data", sql, "sql-prod", tags=good, kind="v12.0",
            properties={"administratorLogin": "sqladmin", "version": "12.0", "state": "Ready", "fullyQualifiedDomainName": "sql-prod.database.windows.net",
                        "publicNetworkAccess": "Disabled", "minimalTlsVersion": "1.2"}),
        arm(s, "rg-prod-web", sql, "sql-legacy", tags={"owner": "web-team"}, kind="v12.0",
            properties={"administratorLogin": "sa", "version": "12.0", "state": "Ready", "fullyQualifiedDomainName": "sql-legacy.database.windows.net",
                        "publicNetworkAccess": "Enabled", "minimalTlsVersion": "1.0"}),
    ]
    e["auditing"] = {
        prod.lower(): {"id": f"{prod}/auditingSettings/Default", "name": "Default", "type": "Microsoft.Sql/servers/auditingSettings",
                       "properties": {"state": "Enabled", "storageEndpoint": "https://staudit.blob.core.windows.net/", "retentionDays": 90,
                                      "storageAccountAccessKey": SECRETS.get("storage_key", ""), "auditActionsAndGroups": ["BATCH_COMPLETED_GROUP"],
                                      "isAzureMonitorTargetEnabled": False}},
        legacy.lower(): {"id": f"{legacy}/auditingSettings/Default", "name": "Default", "type": "Microsoft.Sql/servers/auditingSettings",
                         "properties": {"state": "Disabled", "retentionDays": 0, "auditActionsAndGroups": [], "isAzureMonitorTargetEnabled": False}},
    }

    def db(server, name):
        return {"id": f"{server}/databases/{name}", "name": name, "type": "Microsoft.Sql/servers/databases", "location": "westeurope",
                "sku": {"name": "System" if name == "master" else "S0"}, "properties": {"status": "Online", "collation": "SQL_Latin1_General_CP1_CI_AS"}}
    e["databases"] = {prod.lower(): [db(prod, "master"), db(prod, "db-orders")], legacy.lower(): [db(legacy, "master"), db(legacy, "db-legacy")]}
    e["tde"] = {
        f"{prod}/databases/db-orders".lower(): "Enabled",
        f"{legacy}/databases/db-legacy".lower(): "Disabled",
    }
    vm = "Microsoft.Compute/virtualMachines"
    disk = "Microsoft.Compute/disks"
    e["vms"] = [
        arm(s, "rg-prod-web", vm, "vm-web-01", tags={"owner": "web-team"},
            properties={"vmId": "5c7c6b1e-0000-4000-8000-000000000001", "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                        "storageProfile": {"osDisk": {"name": "disk-web-os", "managedDisk": {"id": rid(s, "rg-prod-web", disk, "disk-web-os")}}},
                        "osProfile": {"computerName": "vm-web-01", "adminUsername": "azureuser", "customData": SECRETS.get("custom_data", ""),
                                      "linuxConfiguration": {"disablePasswordAuthentication": True}},
                        "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}},
                        "provisioningState": "Succeeded"}),
    ]
    e["disks"] = [
        arm(s, "rg-prod-data", disk, "disk-data-01", tags=good, sku={"name": "Premium_LRS"},
            properties={"diskSizeGB": 256, "diskState": "Attached", "provisioningState": "Succeeded",
                        "encryption": {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": rid(s, "rg-prod-data", "Microsoft.Compute/diskEncryptionSets", "des-prod")}}),
        arm(s, "rg-prod-web", disk, "disk-web-os", tags={"owner": "web-team"}, sku={"name": "Premium_LRS"}, managedBy=rid(s, "rg-prod-web", vm, "vm-web-01"),
            properties={"diskSizeGB": 30, "diskState": "Attached", "osType": "Linux", "provisioningState": "Succeeded",
                        "encryption": {"type": "EncryptionAtRestWithPlatformKey"}}),
    ]
    e["diagnostic"] = [
        {"id": f"/subscriptions/{s}/providers/microsoft.insights/diagnosticSettings/export-activity-log", "name": "export-activity-log",
         "type": "Microsoft.Insights/diagnosticSettings",
         "properties": {"workspaceId": f"/subscriptions/{s}/resourceGroups/rg-prod-data/providers/Microsoft.OperationalInsights/workspaces/law-prod",
                        "logs": [{"category": c, "enabled": c in ("Administrative", "Security", "Policy")} for c in
                                 ("Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy", "Autoscale", "ResourceHealth")]}},
    ]
    pa = "Microsoft.Authorization/policyAssignments"
    e["policy"] = [
        {"id": f"/subscriptions/{s}/providers/{pa}/iso27001-2022", "name": "iso27001-2022", "type": pa, "location": "westeurope",
         "identity": {"type": "SystemAssigned", "principalId": "4b2e1f3a-0000-4000-8000-0000000000aa", "tenantId": TENANT},
         "properties": {"displayName": "ISO 27001:2022", "policyDefinitionId": f"/providers/Microsoft.Authorization/policySetDefinitions/{ISO27001_2022}",
                        "scope": f"/subscriptions/{s}", "notScopes": [], "parameters": {}, "enforcementMode": "Default"}},
        {"id": f"/subscriptions/{s}/providers/{pa}/allowed-locations", "name": "allowed-locations", "type": pa,
         "properties": {"displayName": "Allowed locations", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c",
                        "scope": f"/subscriptions/{s}", "notScopes": [], "parameters": {"listOfAllowedLocations": {"value": ["westeurope", "northeurope"]}},
                        "enforcementMode": "Default"}},
    ]
    e["policy_summary"] = {
        "@odata.context": "https://management.azure.com/subscriptions/%s/providers/Microsoft.PolicyInsights/policyStates/$metadata#summary" % s,
        "@odata.count": 1,
        "value": [{"@odata.id": None, "@odata.context": "https://management.azure.com/subscriptions/%s/providers/Microsoft.PolicyInsights/policyStates/$metadata#summary/$entity" % s,
                   "results": {"queryResultsUri": "https://management.azure.com/...", "nonCompliantResources": 4, "nonCompliantPolicies": 3},
                   "policyAssignments": [{"policyAssignmentId": f"/subscriptions/{s}/providers/microsoft.authorization/policyassignments/iso27001-2022",
                                          "policySetDefinitionId": f"/providers/microsoft.authorization/policysetdefinitions/{ISO27001_2022}",
                                          "results": {"nonCompliantResources": 4, "nonCompliantPolicies": 3,
                                                      "resourceDetails": [{"complianceState": "compliant", "count": 21}, {"complianceState": "noncompliant", "count": 4}]},
                                          "policyDefinitions": []}]}],
    }
    ra = "Microsoft.Authorization/roleAssignments"

    def assignment(name, role, principal, ptype, scope):
        return {"id": f"{scope}/providers/{ra}/{name}", "name": name, "type": ra,
                "properties": {"roleDefinitionId": f"/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                               "principalId": principal, "principalType": ptype, "scope": scope,
                               "condition": None, "conditionVersion": None, "createdOn": "2025-03-01T10:00:00.0000000Z"}}
    root = f"/subscriptions/{s}"
    e["principals"] = {
        "11111111-0000-4000-8000-000000000001": ("#microsoft.graph.user", "alice@contoso.com"),
        "11111111-0000-4000-8000-000000000002": ("#microsoft.graph.user", "bob@contoso.com"),
        "11111111-0000-4000-8000-000000000003": ("#microsoft.graph.user", "eve_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
        "11111111-0000-4000-8000-000000000004": ("#microsoft.graph.group", "Platform Admins"),
        "11111111-0000-4000-8000-000000000005": ("#microsoft.graph.servicePrincipal", "deploy-pipeline"),
    }
    e["roles"] = [
        assignment("a0000000-0000-4000-8000-000000000001", OWNER, "11111111-0000-4000-8000-000000000001", "User", root),
        assignment("a0000000-0000-4000-8000-000000000002", OWNER, "11111111-0000-4000-8000-000000000002", "User", root),
        assignment("a0000000-0000-4000-8000-000000000003", OWNER, "11111111-0000-4000-8000-000000000003", "User", root),
        assignment("a0000000-0000-4000-8000-000000000004", OWNER, "11111111-0000-4000-8000-000000000004", "Group", root),
        assignment("a0000000-0000-4000-8000-000000000005", CONTRIBUTOR, "11111111-0000-4000-8000-000000000005", "ServicePrincipal",
                   f"{root}/resourceGroups/rg-prod-web"),
    ]
    e["role_definitions"] = [
        {"id": f"/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{g}", "name": g,
         "type": "Microsoft.Authorization/roleDefinitions",
         "properties": {"roleName": n, "type": "BuiltInRole", "description": n, "assignableScopes": ["/"], "permissions": []}}
        for g, n in ((OWNER, "Owner"), (CONTRIBUTOR, "Contributor"), (READER, "Reader"), (UAA, "User Access Administrator"))
    ]
    return e


ESTATES = {SUB_A: estate(SUB_A), SUB_B: estate(SUB_B)}


def generic(obj):
    """The generic resource list's view of a resource: no properties."""
    return {k: obj[k] for k in ("id", "name", "type", "sku", "kind", "location", "tags", "managedBy", "identity") if k in obj}


def collections():
    """Listing paths (lower-cased) → (api family, items); object paths → (family, body)."""
    lists, objects = {}, {}
    lists["/subscriptions"] = ("subscriptions", [e["subscription"] for e in ESTATES.values()])
    for s, e in ESTATES.items():
        base = f"/subscriptions/{s}"
        objects[base] = ("subscriptions", e["subscription"])
        lists[f"{base}/resourcegroups"] = ("resources", e["groups"])
        everything = e["storage"] + e["nsg"] + e["vaults"] + e["sql"] + e["vms"] + e["disks"] + [
            d for dbs in e["databases"].values() for d in dbs if d["name"] != "master"]
        lists[f"{base}/resources"] = ("resources", [generic(o) for o in everything])
        p = f"{base}/providers/"
        lists[p + "microsoft.authorization/locks"] = ("locks", e["locks"])
        lists[p + "microsoft.storage/storageaccounts"] = ("storage", e["storage"])
        lists[p + "microsoft.network/networksecuritygroups"] = ("network", e["nsg"])
        lists[p + "microsoft.keyvault/vaults"] = ("keyvault", e["vaults"])
        lists[p + "microsoft.sql/servers"] = ("sql", e["sql"])
        lists[p + "microsoft.compute/virtualmachines"] = ("compute", e["vms"])
        lists[p + "microsoft.compute/disks"] = ("disks", e["disks"])
        lists[p + "microsoft.insights/diagnosticsettings"] = ("insights", e["diagnostic"])
        lists[p + "microsoft.authorization/policyassignments"] = ("policy", e["policy"])
        lists[p + "microsoft.authorization/roleassignments"] = ("authorization", e["roles"])
        lists[p + "microsoft.authorization/roledefinitions"] = ("authorization", e["role_definitions"])
        for server, body in e["auditing"].items():
            objects[f"{server}/auditingsettings/default"] = ("sql", body)
        for server, dbs in e["databases"].items():
            lists[f"{server}/databases"] = ("sql", dbs)
        for database, state in e["tde"].items():
            objects[f"{database}/transparentdataencryption/current"] = ("sql", {
                "id": f"{database}/transparentDataEncryption/Current", "name": "Current",
                "type": "Microsoft.Sql/servers/databases/transparentDataEncryption", "properties": {"state": state}})
    return lists, objects


LISTS, OBJECTS = collections()


def error(code, message):
    return {"error": {"code": code, "message": message}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", "00000000-0000-4000-8000-%012d" % int(time.time() * 1000 % 10**12))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        with lock, open(LOG, "a") as log:
            log.write(json.dumps({"t": time.time(), "method": self.command, "path": self.path.split("?")[0],
                                  "query": self.query, "status": status}) + "\n")

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/msi/token":
            return self.managed_identity()
        self.handle_arm()

    def managed_identity(self):
        """App Service's managed identity endpoint (IDENTITY_ENDPOINT, api-version 2019-08-01):
        the X-IDENTITY-HEADER secret, a `resource`, and `expires_on` as a string of epoch seconds."""
        self.query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        msi = config.get("msi", {})
        if self.headers.get("X-IDENTITY-HEADER") != msi.get("header") or not self.query.get("resource"):
            return self.reply(400, {"statusCode": 400, "message": "Unable to load the proper Managed Identity."})
        self.reply(200, {"access_token": msi["access_token"], "expires_on": str(int(time.time()) + 3600),
                         "resource": self.query["resource"], "token_type": "Bearer"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        self.query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if path.endswith("/oauth2/v2.0/token"):
            return self.token(path)
        if path.lower() == "/v1.0/directoryobjects/getbyids":
            return self.graph()
        self.handle_arm()

    def token(self, path):
        form = dict(urllib.parse.parse_qsl(self.body().decode()))
        client = config.get("client", {})
        # A client secret, or (workload identity) the federated token as a JWT-bearer client assertion.
        proof = (form.get("client_secret") == client.get("client_secret") if "client_secret" in client else
                 form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                 and form.get("client_assertion") == client.get("assertion"))
        if (path.split("/")[1] != client.get("tenant") or form.get("client_id") != client.get("client_id")
                or not proof or form.get("grant_type") != "client_credentials"):
            return self.reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
                                    "error_codes": [7000215]})
        self.query = {"scope": form.get("scope", "")}
        self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                         "access_token": client["access_token"]})

    def graph(self):
        if self.bearer() not in config.get("graph_tokens", []):
            return self.reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}})
        ids = json.loads(self.body() or b"{}").get("ids", [])
        known = {}
        for e in ESTATES.values():
            known.update(e["principals"])
        value = []
        for i in ids:
            if i in known:
                kind, name = known[i]
                obj = {"@odata.type": kind, "id": i, "displayName": name.split("@")[0]}
                if kind == "#microsoft.graph.user":
                    obj["userPrincipalName"] = name
                else:
                    obj["displayName"] = name
                value.append(obj)
        self.reply(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": value})

    def handle_arm(self):
        split = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(split.query))
        path = urllib.parse.unquote(split.path).rstrip("/").lower()
        if self.bearer() not in config.get("tokens", []):
            return self.reply(401, error("InvalidAuthenticationToken", "The access token is invalid."))
        m = re.match(r"^/subscriptions/([^/]+)", path)
        if m and m.group(1) in config.get("forbidden", []):
            return self.reply(403, error("AuthorizationFailed",
                                         f"The client 'evidra-test' with object id '00000000-0000-4000-8000-0000000000ff' does not have authorization "
                                         f"to perform action 'read' over scope '{split.path}' or the scope is invalid."))
        if m and m.group(1) not in ESTATES:
            return self.reply(404, error("SubscriptionNotFound", f"The subscription '{m.group(1)}' could not be found."))
        summarize = path.endswith("/providers/microsoft.policyinsights/policystates/latest/summarize")
        if summarize:
            family, target = "policyinsights", None
        elif path in LISTS:
            family, target = LISTS[path]
        elif path in OBJECTS:
            family, target = OBJECTS[path]
        else:
            return self.reply(404, error("ResourceNotFound", f"The Resource '{split.path}' was not found."))
        if (self.command == "POST") != summarize:
            return self.reply(405, error("MethodNotAllowed", f"The requested method {self.command} is not allowed."))
        version = self.query.get("api-version")
        if not version:
            return self.reply(400, error("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."))
        if version not in API[family]:
            return self.reply(400, error("InvalidApiVersionParameter",
                                         f"The api-version '{version}' is invalid. The supported versions are '{','.join(API[family])}'."))
        with lock:
            left = config.get("throttle", {}).get(path, 0) - throttled.get(path, 0)
            if left > 0:
                throttled[path] = throttled.get(path, 0) + 1
        if left > 0:
            return self.reply(429, error("TooManyRequests", "The request is being throttled as the limit has been reached for operation type - Read."),
                              {"Retry-After": str(config.get("retry_after", 1))})
        if summarize:
            sub = m.group(1)
            return self.reply(200, ESTATES[sub]["policy_summary"])
        if isinstance(target, dict):
            return self.reply(200, target)
        skip = int(self.query.get("$skiptoken", "0") or 0)
        page = {"value": target[skip:skip + PAGE]}
        if skip + PAGE < len(target):
            scheme = "https" if TLS else "http"
            query = urllib.parse.urlencode({"api-version": version, "$skiptoken": str(skip + PAGE)})
            page["nextLink"] = f"{scheme}://127.0.0.1:{PORT}{split.path}?{query}"
        self.reply(200, page)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
if TLS:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS[0], TLS[1])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
