% include('event_words.tpl', element_id='wizard-words', connected=_('Connected: call now, each step appears below.'))
