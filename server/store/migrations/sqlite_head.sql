BEGIN TRANSACTION;
CREATE TABLE agent_log (
	id INTEGER NOT NULL, 
	path VARCHAR(1000) NOT NULL, 
	agent VARCHAR(50) NOT NULL, 
	session_id VARCHAR(200), 
	cli_version VARCHAR(50), 
	size BIGINT NOT NULL, 
	mtime_ns BIGINT NOT NULL, 
	lines INTEGER NOT NULL, 
	skipped INTEGER NOT NULL, 
	skip_reasons JSON NOT NULL, 
	read_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (path)
);
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0018');
CREATE TABLE "api_request" (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	prompt_id VARCHAR(200), 
	request_id VARCHAR(200), 
	event_sequence INTEGER, 
	model VARCHAR(200), 
	cost_usd FLOAT, 
	duration_ms FLOAT, 
	ttft_ms FLOAT, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cache_read_tokens INTEGER NOT NULL, 
	cache_creation_tokens INTEGER NOT NULL, 
	query_source VARCHAR(200), 
	agent_id VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	user VARCHAR(200), 
	host VARCHAR(200), 
	fingerprint VARCHAR(64), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_api_request_session_fingerprint UNIQUE (session_id, fingerprint)
);
CREATE TABLE budget_reservation (
	id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	model VARCHAR(200) NOT NULL, 
	amount_usd FLOAT NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE consensus_run (
	id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	strategy VARCHAR(50) NOT NULL, 
	question TEXT NOT NULL, 
	status VARCHAR(50) NOT NULL, 
	agreement FLOAT, 
	final_output_id VARCHAR(64), 
	total_cost_usd FLOAT, 
	latency_ms FLOAT, 
	created_at DATETIME NOT NULL, cost_known_usd FLOAT, 
	PRIMARY KEY (id)
);
CREATE TABLE delegation (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200), 
	request_id VARCHAR(64) NOT NULL, 
	attempt INTEGER NOT NULL, 
	provider VARCHAR(200) NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	task_type VARCHAR(100), 
	status VARCHAR(50) NOT NULL, 
	error TEXT, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cached_tokens INTEGER NOT NULL, 
	cost_usd FLOAT, 
	priced BOOLEAN NOT NULL, 
	latency_ms FLOAT, 
	cache_hit BOOLEAN NOT NULL, 
	thread_id VARCHAR(64), 
	consensus_run_id VARCHAR(64), 
	output_id VARCHAR(64), 
	created_at DATETIME NOT NULL, quality FLOAT, learned_over VARCHAR(400), solve_node_id VARCHAR(64), user VARCHAR(200), host VARCHAR(200), claude_ask_tokens INTEGER, claude_read_tokens INTEGER, role VARCHAR(20), 
	PRIMARY KEY (id)
);
CREATE TABLE feedback (
	id INTEGER NOT NULL, 
	request_id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	task_type VARCHAR(100) NOT NULL, 
	model VARCHAR(400) NOT NULL, 
	good BOOLEAN NOT NULL, 
	note TEXT, 
	source VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, project_dir VARCHAR(1000), 
	PRIMARY KEY (id), 
	UNIQUE (request_id)
);
CREATE TABLE "model_usage" (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200), 
	model VARCHAR(200) NOT NULL, 
	message_id VARCHAR(200) NOT NULL, 
	request_id VARCHAR(200) NOT NULL, 
	created_at DATETIME, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cache_read_tokens INTEGER NOT NULL, 
	cache_creation_tokens INTEGER NOT NULL, 
	cost_usd FLOAT, 
	cache_creation_1h_tokens INTEGER DEFAULT 0 NOT NULL, 
	service_tier VARCHAR(50), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_model_usage_message_request UNIQUE (message_id, request_id)
);
CREATE TABLE prompt (
	id INTEGER NOT NULL, 
	event_id VARCHAR(200) NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (event_id)
);
CREATE TABLE provider_event (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200), 
	provider VARCHAR(200) NOT NULL, 
	event VARCHAR(50) NOT NULL, 
	error_class VARCHAR(50), 
	detail TEXT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE raw_event (
	id INTEGER NOT NULL, 
	event_id VARCHAR(200) NOT NULL, 
	session_id VARCHAR(200), 
	event_name VARCHAR(100) NOT NULL, 
	received_at DATETIME NOT NULL, 
	ingested_at DATETIME NOT NULL, 
	payload JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (event_id)
);
CREATE TABLE record_batch (
	id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	written_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE "routing_stat" (
	id INTEGER NOT NULL, 
	task_type VARCHAR(100) NOT NULL, 
	model VARCHAR(400) NOT NULL, 
	session_id VARCHAR(200), 
	calls INTEGER NOT NULL, 
	successes INTEGER NOT NULL, 
	latency_ms_sum FLOAT NOT NULL, 
	latency_n INTEGER NOT NULL, 
	cost_usd_sum FLOAT NOT NULL, 
	cost_n INTEGER NOT NULL, 
	quality_sum FLOAT NOT NULL, 
	quality_n INTEGER NOT NULL, 
	last_at DATETIME, 
	user VARCHAR(200) DEFAULT '' NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_routing_stat_task_type_model_user UNIQUE (task_type, model, user)
);
CREATE TABLE session (
	session_id VARCHAR(200) NOT NULL, 
	started_at DATETIME, 
	ended_at DATETIME, 
	last_event_at DATETIME, 
	cwd VARCHAR, 
	project VARCHAR(500), 
	models JSON NOT NULL, 
	source VARCHAR(50), 
	end_reason VARCHAR(100), 
	transcript_path VARCHAR, 
	cost_usd FLOAT, 
	cost_source VARCHAR(50), 
	context_tokens INTEGER, agent VARCHAR(50) DEFAULT 'claude-code' NOT NULL, user VARCHAR(200), host VARCHAR(200), 
	PRIMARY KEY (session_id)
);
CREATE TABLE solve_node (
	id VARCHAR(64) NOT NULL, 
	run_id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	parent_id VARCHAR(64), 
	seq INTEGER NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	action VARCHAR(10) NOT NULL, 
	depth INTEGER NOT NULL, 
	score FLOAT, 
	status VARCHAR(50) NOT NULL, 
	feedback TEXT, 
	cost_usd FLOAT, 
	latency_ms FLOAT, 
	output_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE solve_run (
	id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	task TEXT NOT NULL, 
	models TEXT NOT NULL, 
	check_name VARCHAR(200), 
	judge_model VARCHAR(200), 
	status VARCHAR(50) NOT NULL, 
	stop_reason VARCHAR(50), 
	target_score FLOAT NOT NULL, 
	best_score FLOAT, 
	best_node_id VARCHAR(64), 
	calls INTEGER NOT NULL, 
	total_cost_usd FLOAT, 
	cost_known_usd FLOAT, 
	unpriced_calls INTEGER NOT NULL, 
	latency_ms FLOAT, 
	created_at DATETIME NOT NULL, user VARCHAR(200), host VARCHAR(200), 
	PRIMARY KEY (id)
);
CREATE TABLE stored_output (
	id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	kind VARCHAR(50) NOT NULL, 
	content TEXT NOT NULL, 
	created_at DATETIME NOT NULL, project_dir VARCHAR(1000), 
	PRIMARY KEY (id)
);
CREATE TABLE subagent_run (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200) NOT NULL, 
	agent_type VARCHAR(200), 
	parent_agent_id VARCHAR(200), 
	started_at DATETIME, 
	stopped_at DATETIME, 
	duration_ms FLOAT, 
	transcript_path VARCHAR, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cache_read_tokens INTEGER NOT NULL, 
	cache_creation_tokens INTEGER NOT NULL, 
	cost_usd FLOAT, 
	unpriced_models JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (agent_id)
);
CREATE TABLE thread (
	thread_id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (thread_id)
);
CREATE TABLE thread_message (
	id INTEGER NOT NULL, 
	thread_id VARCHAR(64) NOT NULL, 
	session_id VARCHAR(200), 
	role VARCHAR(20) NOT NULL, 
	content TEXT NOT NULL, 
	model VARCHAR(200), 
	created_at DATETIME NOT NULL, project_dir VARCHAR(1000), 
	PRIMARY KEY (id)
);
CREATE TABLE tool_call (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	tool_use_id VARCHAR(200) NOT NULL, 
	tool_name VARCHAR(200) NOT NULL, 
	agent_id VARCHAR(200), 
	status VARCHAR(20) NOT NULL, 
	started_at DATETIME, 
	ended_at DATETIME, 
	duration_ms FLOAT, 
	input_summary TEXT, 
	response_summary TEXT, 
	error TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (tool_use_id)
);
CREATE TABLE "tool_decision" (
	id INTEGER NOT NULL, 
	session_id VARCHAR(200) NOT NULL, 
	tool_use_id VARCHAR(200) NOT NULL, 
	tool_name VARCHAR(200), 
	decision VARCHAR(20), 
	source VARCHAR(100), 
	success BOOLEAN, 
	duration_ms FLOAT, 
	created_at DATETIME NOT NULL, 
	user VARCHAR(200), 
	host VARCHAR(200), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_tool_decision_session_tool_use UNIQUE (session_id, tool_use_id)
);
CREATE TABLE transcript_mark (
	path VARCHAR(1000) NOT NULL, 
	session_id VARCHAR(200), 
	device BIGINT NOT NULL, 
	inode BIGINT NOT NULL, 
	size BIGINT NOT NULL, 
	mtime_ns BIGINT NOT NULL, 
	"offset" BIGINT NOT NULL, 
	skipped JSON NOT NULL, 
	read_at DATETIME NOT NULL, 
	PRIMARY KEY (path)
);
CREATE INDEX ix_consensus_run_created_at ON consensus_run (created_at);
CREATE INDEX ix_consensus_run_session_id ON consensus_run (session_id);
CREATE INDEX ix_delegation_consensus_run_id ON delegation (consensus_run_id);
CREATE INDEX ix_delegation_created_at ON delegation (created_at);
CREATE INDEX ix_delegation_model ON delegation (model);
CREATE INDEX ix_delegation_provider ON delegation (provider);
CREATE INDEX ix_delegation_request_id ON delegation (request_id);
CREATE INDEX ix_delegation_session_id ON delegation (session_id);
CREATE INDEX ix_delegation_status ON delegation (status);
CREATE INDEX ix_delegation_task_type ON delegation (task_type);
CREATE INDEX ix_delegation_thread_id ON delegation (thread_id);
CREATE INDEX ix_prompt_created_at ON prompt (created_at);
CREATE INDEX ix_prompt_session_id ON prompt (session_id);
CREATE INDEX ix_provider_event_created_at ON provider_event (created_at);
CREATE INDEX ix_provider_event_provider ON provider_event (provider);
CREATE INDEX ix_raw_event_event_name ON raw_event (event_name);
CREATE INDEX ix_raw_event_received_at ON raw_event (received_at);
CREATE INDEX ix_raw_event_session_id ON raw_event (session_id);
CREATE INDEX ix_session_project ON session (project);
CREATE INDEX ix_session_started_at ON session (started_at);
CREATE INDEX ix_stored_output_session_id ON stored_output (session_id);
CREATE INDEX ix_subagent_run_agent_type ON subagent_run (agent_type);
CREATE INDEX ix_subagent_run_session_id ON subagent_run (session_id);
CREATE INDEX ix_subagent_run_started_at ON subagent_run (started_at);
CREATE INDEX ix_thread_session_id ON thread (session_id);
CREATE INDEX ix_thread_message_thread_id ON thread_message (thread_id);
CREATE INDEX ix_tool_call_agent_id ON tool_call (agent_id);
CREATE INDEX ix_tool_call_session_id ON tool_call (session_id);
CREATE INDEX ix_tool_call_started_at ON tool_call (started_at);
CREATE INDEX ix_tool_call_tool_name ON tool_call (tool_name);
CREATE INDEX ix_tool_call_started_at_tool_name ON tool_call (started_at, tool_name, status, duration_ms);
CREATE INDEX ix_tool_call_tool_name_duration_ms ON tool_call (tool_name, duration_ms, started_at, status, session_id);
CREATE INDEX ix_record_batch_written_at ON record_batch (written_at);
CREATE INDEX ix_budget_reservation_created_at ON budget_reservation (created_at);
CREATE INDEX ix_budget_reservation_expires_at ON budget_reservation (expires_at);
CREATE INDEX ix_budget_reservation_session_id ON budget_reservation (session_id);
CREATE INDEX ix_feedback_created_at ON feedback (created_at);
CREATE INDEX ix_feedback_session_id ON feedback (session_id);
CREATE INDEX ix_solve_run_created_at ON solve_run (created_at);
CREATE INDEX ix_solve_run_session_id ON solve_run (session_id);
CREATE INDEX ix_solve_node_created_at ON solve_node (created_at);
CREATE INDEX ix_solve_node_run_id ON solve_node (run_id);
CREATE INDEX ix_solve_node_session_id ON solve_node (session_id);
CREATE INDEX ix_delegation_solve_node_id ON delegation (solve_node_id);
CREATE INDEX ix_session_agent ON session (agent);
CREATE INDEX ix_session_user ON session (user);
CREATE INDEX ix_delegation_user ON delegation (user);
CREATE INDEX ix_solve_run_user ON solve_run (user);
CREATE INDEX ix_agent_log_agent ON agent_log (agent);
CREATE INDEX ix_agent_log_session_id ON agent_log (session_id);
CREATE INDEX ix_transcript_mark_session_id ON transcript_mark (session_id);
CREATE INDEX ix_model_usage_session_id_model ON model_usage (session_id, model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd);
CREATE INDEX ix_model_usage_session_id_agent_id ON model_usage (session_id, agent_id, model, output_tokens);
CREATE INDEX ix_api_request_session_id ON api_request (session_id);
CREATE INDEX ix_api_request_prompt_id ON api_request (prompt_id);
CREATE INDEX ix_api_request_agent_id ON api_request (agent_id);
CREATE INDEX ix_api_request_created_at ON api_request (created_at);
CREATE INDEX ix_api_request_user ON api_request (user);
CREATE INDEX ix_tool_decision_session_id ON tool_decision (session_id);
CREATE INDEX ix_tool_decision_user ON tool_decision (user);
CREATE INDEX ix_tool_decision_created_at ON tool_decision (created_at);
CREATE INDEX ix_tool_decision_tool_use_id ON tool_decision (tool_use_id);
CREATE INDEX ix_delegation_role ON delegation (role);
COMMIT;
