{{ with_dispositions(ref('stg_cms__inspection_outcomes'), 'inspection_id', ['inspection_id', 'lrn']) }}
