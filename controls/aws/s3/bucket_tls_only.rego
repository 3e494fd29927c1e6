package controls.aws.s3.bucket_tls_only

recorded(supplementary) if {
	is_object(supplementary)
	"BucketPolicy" in object.keys(supplementary)
}

text(supplementary) := object.get(object.get(supplementary, "BucketPolicy", {}), "policyText", null)

# `policyText` is JSON in a string; accept an already decoded object too.
policy(text) := json.unmarshal(text) if is_string(text)

policy(text) := text if {
	text != null
	not is_string(text)
}

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

statements(p) := as_list(object.get(p, "Statement", []))

everyone(s) if s.Principal == "*"

everyone(s) if {
	p := s.Principal
	not is_string(p)
	"*" in as_list(object.get(p, "AWS", []))
}

all_actions(s) if {
	some a in as_list(object.get(s, "Action", []))
	lower(a) in {"s3:*", "*"}
}

# The deny must reach objects, not only the bucket: `arn:aws:s3:::b/*` or `*`.
objects_covered(s) if {
	some res in as_list(object.get(s, "Resource", []))
	is_string(res)
	endswith(res, "/*")
}

objects_covered(s) if "*" in as_list(object.get(s, "Resource", []))

insecure_transport(s) if {
	some op, block in object.get(s, "Condition", {})
	lower(op) == "bool"
	some k, v in block
	lower(k) == "aws:securetransport"
	some value in as_list(v)
	lower(sprintf("%v", [value])) == "false"
}

denies_http(s) if {
	s.Effect == "Deny"
	everyone(s)
	all_actions(s)
	objects_covered(s)
	insecure_transport(s)
}

# Each bucket is judged once, by the first case that holds (none, for a policy that
# cannot be read: the engine then reports that the rule gave no result). Its
# supplementary configuration, policy text and policy are each worked out once and
# handed on.
# The verdict is the result itself, not an object to build it from.
results := [verdict(r.id, object.get(r.properties, "supplementaryConfiguration", null)) | some r in input.resources]

verdict(id, supplementary) := {"resource": id, "status": "error", "message": "the bucket policy was not recorded"} if {
	not recorded(supplementary)
} else := judged(id, text(supplementary))

judged(id, text) := {"resource": id, "status": "fail", "message": "no bucket policy: requests over plain HTTP are not denied"} if {
	text == null
} else := tls(id, p, [object.get(s, "Sid", "(no Sid)") | some s in statements(p); denies_http(s)]) if {
	p := policy(text)
}

tls(id, p, found) := {"resource": id, "status": "pass", "message": sprintf("the bucket policy denies all requests without TLS (statement %s)", [concat(", ", found)])} if {
	count(found) > 0
} else := {"resource": id, "status": "fail", "message": sprintf("the bucket policy (%d statement(s)) has no Deny for all principals and s3:* where aws:SecureTransport is false", [count(statements(p))])}
