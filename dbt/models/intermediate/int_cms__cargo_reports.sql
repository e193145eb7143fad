{{ with_dispositions(ref('stg_cms__cargo_reports'), 'document_number, message_function, issue_datetime', ['document_number']) }}
