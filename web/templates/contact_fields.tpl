% errors = get('errors') or {}
% c = get('c') or {}
% for key, label, kind in (('name', _('Name'), 'text'), ('company', _('Company'), 'text'), ('email', _('Email'), 'email')):
<label for="ct-{{key}}">{{label}}</label>
<input id="ct-{{key}}" name="{{key}}" type="{{kind}}" value="{{c.get(key, '')}}" {{!'required maxlength="100"' if key == 'name' else ''}} {{!('aria-describedby="ct-' + key + '-error"') if key in errors else ''}}>
% if key in errors:
<p class="field-error" id="ct-{{key}}-error" role="alert">{{errors[key]}}</p>
% end
% end
<label for="ct-numbers">{{_('Phone numbers')}}</label>
<textarea id="ct-numbers" name="numbers" rows="2" aria-describedby="ct-numbers-help">{{c['numbers_text'] if 'numbers_text' in c else c.get('numbers', '')}}</textarea>
<p class="help" id="ct-numbers-help">{{_('One per line, with the country code (+48 601 234 567); the box stores them in one form.')}}</p>
<label for="ct-notes">{{_('Notes')}}</label>
<textarea id="ct-notes" name="notes" rows="3" maxlength="2000">{{c.get('notes', '')}}</textarea>
% if 'notes' in errors:
<p class="field-error" role="alert">{{errors['notes']}}</p>
% end
